import { PROXY_VARIABLES } from '../../src/config.js';

// Tests talk to fakes on loopback: a proxy in the developer's environment must not carry them
// (the proxy tests set their own).
for (const name of PROXY_VARIABLES) process.env[name] = '';
