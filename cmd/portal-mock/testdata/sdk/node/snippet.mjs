// The WorkOS documentation page's Node snippet, as written but for the
// mock's address, with @workos-inc/node 8.13.0, the last version that has
// workos.portal (later majors call it workos.adminPortal).
// Usage: node snippet.mjs <base-url>, with the cases on standard input.
import { WorkOS } from '@workos-inc/node';
import { mockAddress, serve } from './cases.mjs';

async function snippet() {
  const workos = new WorkOS('sk_example_123456789', mockAddress());

  const { link } = await workos.portal.generateLink({
    organization: 'org_01EHZNVPK3SFK441A1RGBFSHRT',
    intent: 'audit_logs',
  });

  // Redirect to link
  return link;
}

// The same call, with what each error case changes.
async function call(key, intent) {
  const workos = new WorkOS(key, mockAddress());
  return (await workos.portal.generateLink({ organization: 'org_01EHZNVPK3SFK441A1RGBFSHRT', intent })).link;
}

await serve({
  snippet,
  'wrong key': () => call('sk_live_not_accepted', 'audit_logs'),
  'invalid': () => call('sk_example_123456789', 'billing'), // an intent outside the enum
  'rate limited': snippet,
});
