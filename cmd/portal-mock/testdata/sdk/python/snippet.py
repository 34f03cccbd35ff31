"""The WorkOS documentation page's Python snippet, as written but for the
mock's address (base_url), with workos 5.46.0, the last version whose
WorkOSClient has portal.generate_link(organization_id=..., intent=...).
Usage: python3 snippet.py <base-url>, with the cases on standard input."""

import sys

from cases import serve
from workos import WorkOSClient

BASE_URL = sys.argv[1]


def snippet():
    workos_client = WorkOSClient(
        api_key="sk_example_123456789", client_id="client_123456789", base_url=BASE_URL
    )

    organization_id = (
        "org_123"  # The ID of the organization to start an Admin Portal session for
    )

    portal_link = workos_client.portal.generate_link(
        organization_id=organization_id, intent="audit_logs"
    )

    # Redirect to portal_link["link"]
    return portal_link.link  # a PortalLink model in workos 5, not a dict


def call(key, intent):
    """The same call, with what each error case changes."""
    client = WorkOSClient(api_key=key, client_id="client_123456789", base_url=BASE_URL)
    return client.portal.generate_link(organization_id="org_123", intent=intent).link


serve({
    "snippet": snippet,
    "wrong key": lambda: call("sk_live_not_accepted", "audit_logs"),
    "invalid": lambda: call("sk_example_123456789", "billing"),  # an intent outside the enum
    "rate limited": snippet,
})
