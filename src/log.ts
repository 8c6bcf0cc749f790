import { pino, type DestinationStream, type Logger } from 'pino';

/** Secrets and tokens anywhere we might log them: config, request headers, token answers. */
export const REDACT_PATHS = [
  'appSecret',
  '*.appSecret',
  '*.*.appSecret',
  'clientSecret',
  '*.clientSecret',
  '*.*.clientSecret',
  'encryptKey',
  '*.encryptKey',
  '*.*.encryptKey',
  'verificationToken',
  '*.verificationToken',
  '*.*.verificationToken',
  'app_secret',
  '*.app_secret',
  'appKey',
  '*.appKey',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'access_token',
  '*.access_token',
  'tenant_access_token',
  '*.tenant_access_token',
  'authorization',
  '*.authorization',
  '*.Authorization',
  '*.*.authorization',
  '*.*.Authorization',
  '*["x-acs-dingtalk-access-token"]',
  '*.*["x-acs-dingtalk-access-token"]',
  // A config's apps (DESIGN §8), logged whole or on their own.
  ...['appSecret', 'clientSecret', 'encryptKey', 'verificationToken'].flatMap((k) => [`apps[*].${k}`, `*.apps[*].${k}`]),
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      // `app` names the served app (DESIGN §8) in the lines about one; this names the program.
      base: { service: 'taskbot' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
    },
    destination,
  );
}
