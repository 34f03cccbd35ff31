// Drives the official WorkOS Node SDK, unchanged, against portal-mock.
// Usage: node node-sdk.mjs <sdk-dir> <port> <api-key>
// Prints one JSON object per case: {case, ok, link?, error?, status?, requestID?, opened?}.
import { createRequire } from 'node:module';

const [sdkDir, port, apiKey] = process.argv.slice(2);
const { WorkOS } = createRequire(sdkDir + '/')('@workos-inc/node');
const connect = (key) => new WorkOS(key, { apiHostname: '127.0.0.1', port: Number(port), https: false });
const portal = (w) => w.adminPortal ?? w.portal; // renamed in later majors

async function run(name, key, opts) {
  try {
    const { link } = await portal(connect(key)).generateLink(opts);
    const first = await fetch(link);
    const page = await first.text();
    const second = await fetch(link);
    console.log(JSON.stringify({ case: name, ok: true, link, opened: [first.status, second.status], page }));
  } catch (e) {
    console.log(JSON.stringify({ case: name, ok: false, error: e.constructor.name, status: e.status, requestID: e.requestID, message: e.message }));
  }
}

await run('success', apiKey, { organization: 'org_123', intent: 'audit_logs' });
await run('wrong key', 'sk_test_not_the_key', { organization: 'org_123', intent: 'audit_logs' });
await run('unknown intent', apiKey, { organization: 'org_123', intent: 'billing' });
await run('unknown organization', apiKey, { organization: 'org_999', intent: 'sso' });
await run('missing organization', apiKey, { intent: 'sso' });
