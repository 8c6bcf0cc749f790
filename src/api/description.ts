import { z } from 'zod';
import { ERROR_CODES } from '../domain/errors.js';
import { WatchRequest } from './watches.js';
import { CARD_TRANSITIONS } from '../domain/card-status.js';

const Problem = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', examples: [...ERROR_CODES, 'INVALID_REQUEST', 'UNAUTHORIZED', 'CARD_NOT_FOUND'] },
        message: { type: 'string' },
        scopes: { type: 'array', items: { type: 'string' } },
        issues: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
      },
    },
  },
};
const err = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Problem' } } } });
const ok = (description: string, schema: string) => ({ description, content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } } });
const cardKey = { name: 'cardKey', in: 'path', required: true, description: 'as POST answered, URL-encoded (e.g. feishu%3Aom_…)', schema: { type: 'string' } };

const CARD_STATUS = Object.keys(CARD_TRANSITIONS);

/**
 * GET /api/v1/openapi.json: the script API described (the request schema is the one the server
 * validates with), served at `publicUrl`; operation ids give generated clients their method names.
 */
export function openApiDocument(publicUrl: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'taskbot script API',
      version: '1',
      description: 'Post a live task card into a Feishu or DingTalk chat, read its latest snapshot, stop it. Enabled when API_TOKEN is set.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: publicUrl, description: 'this taskbot (PUBLIC_URL)' }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'the API_TOKEN' } },
      schemas: {
        WatchRequest: z.toJSONSchema(WatchRequest, { io: 'input', unrepresentable: 'any' }),
        Watch: {
          type: 'object',
          required: ['cardKey', 'app', 'state'],
          properties: {
            cardKey: { type: 'string' },
            app: { type: 'string', description: 'the app it was posted through (APPS_FILE id, or feishu / dingtalk for the single-app variables)' },
            state: { type: 'string', enum: ['queued', 'running', 'succeeded', 'partial', 'failed'] },
          },
        },
        CardState: {
          type: 'object',
          required: ['cardKey', 'app', 'platform', 'chatId', 'status', 'waiting'],
          properties: {
            cardKey: { type: 'string' },
            app: { type: 'string', description: 'the app it was posted through (APPS_FILE id, or feishu / dingtalk for the single-app variables)' },
            platform: { type: 'string', enum: ['feishu', 'dingtalk'] },
            chatId: { type: 'string' },
            status: {
              type: 'string',
              enum: CARD_STATUS,
              description:
                'active (kept up to date), stopped (by a person), done (its task ended), expired or error (updates gave up; Refresh restarts them), gone (the message can no longer be edited)',
            },
            waiting: { type: 'integer', description: 'people who pressed Notify me and are mentioned when it ends' },
            task: { type: 'object', description: "the task's latest snapshot", additionalProperties: true },
          },
        },
        Stopped: {
          type: 'object',
          required: ['cardKey', 'app', 'status'],
          properties: {
            cardKey: { type: 'string' },
            app: { type: 'string', description: 'the app it was posted through (APPS_FILE id, or feishu / dingtalk for the single-app variables)' },
            status: { type: 'string', enum: CARD_STATUS },
          },
        },
        Problem,
      },
    },
    security: [{ bearer: [] }],
    paths: {
      '/api/v1/watches': {
        post: {
          operationId: 'createWatch',
          summary: 'Post a live card of a task into a chat and keep it up to date',
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              description: 'a retry with the same key and body gets the first answer and never posts twice (24 h)',
              schema: { type: 'string', maxLength: 200 },
            },
          ],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/WatchRequest' } } } },
          responses: {
            '201': ok('posted and watched', 'Watch'),
            '400': err('the body does not fit (each issue named), the task id is malformed, or several apps of the platform are served and `app` names none'),
            '401': err('no or wrong bearer token'),
            '403': err('the app lacks a scope (named in scopes), or the chat is not allowed'),
            '404': err('no such task'),
            '409': err('the same Idempotency-Key is still being worked'),
            '422': err('the platform or the app is not configured, or the Idempotency-Key was used for another request'),
            '429': err('rate-limited upstream (Retry-After)'),
            '502': err('the platform refused or answered nonsense'),
            '503': err('the platform is unavailable: try again'),
          },
        },
      },
      '/api/v1/watches/{cardKey}': {
        get: {
          operationId: 'getWatch',
          summary: "The card's status and its task's latest snapshot",
          parameters: [cardKey],
          responses: {
            '200': ok('the card', 'CardState'),
            '401': err('no or wrong bearer token'),
            '403': err('the card is in a chat ALLOWED_CHAT_IDS does not list'),
            '404': err('no such card'),
          },
        },
        delete: {
          operationId: 'stopWatch',
          summary: 'Stop updating a card a script posted',
          parameters: [cardKey],
          responses: {
            '200': ok('stopped (or already ended: its status says how)', 'Stopped'),
            '401': err('no or wrong bearer token'),
            '403': err('a person asked for this card: only they, taskbot admins and the group owner and managers may stop it'),
            '404': err('no such card'),
          },
        },
      },
    },
  };
}
