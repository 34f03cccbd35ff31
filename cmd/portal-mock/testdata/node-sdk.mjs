// Drives the official WorkOS Node SDK, unchanged, against portal-mock.
// Usage: node node-sdk.mjs <sdk-dir> <base-url> <api-key>
// Over https, trust the mock's certificate with NODE_EXTRA_CA_CERTS.
// Prints one JSON object per case: {case, ok, link?, opened?, error?, status?, requestID?}.
import { createRequire } from 'node:module';

const [sdkDir, baseURL, apiKey] = process.argv.slice(2);
const { WorkOS } = createRequire(sdkDir + '/')('@workos-inc/node');
const base = new URL(baseURL);
const connect = (key) => new WorkOS(key, {
  apiHostname: base.hostname, port: Number(base.port), https: base.protocol === 'https:',
});
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
await run('no intent', apiKey, { organization: 'org_123' });
await run('wrong key', 'sk_test_not_the_key', { organization: 'org_123', intent: 'audit_logs' });
await run('unknown intent', apiKey, { organization: 'org_123', intent: 'billing' });
await run('unknown organization', apiKey, { organization: 'org_999', intent: 'sso' });
await run('missing organization', apiKey, { intent: 'sso' });
