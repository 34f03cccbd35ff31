// The WorkOS documentation page's Java snippet for the current major of
// com.workos:workos, in which workos.portal is workos.adminPortal (the
// generated Kotlin SDK, called from Java). The mock's address is apiBaseUrl;
// the key comes from WORKOS_API_KEY, as on the page.
// Usage: java -cp '<dir of the SDK's jars>/*' Current.java <base-url>, with
// the cases on standard input; over https, trust the mock's certificate with
// -Djavax.net.ssl.trustStore. Answers each case with one line of JSON:
// {case, ok, link} or {case, ok: false, error, status, requestID, retryAfter}.

import com.workos.WorkOS;
import com.workos.common.exceptions.RateLimitException;
import com.workos.common.exceptions.WorkOSException;
import com.workos.models.PortalLinkResponse;
import com.workos.types.GenerateLinkIntent;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.List;
import java.util.Map;

public class Current {
  static String baseURL;

  static String snippet() {
    Map<String, String> env = System.getenv();
    WorkOS workos = WorkOS.builder().apiKey(env.get("WORKOS_API_KEY")).apiBaseUrl(baseURL).build();

    // The ID of the organization to start an Admin Portal session for
    String organizationId = "org_123";

    PortalLinkResponse response =
        workos.getAdminPortal().generateLink(organizationId, null, null, GenerateLinkIntent.AuditLogs);

    String link = response.getLink();
    // Redirect to link
    return link;
  }

  // The same call, with what each error case changes.
  static String call(String key, List<String> itContactEmails) {
    WorkOS workos = WorkOS.builder().apiKey(key).apiBaseUrl(baseURL).build();
    return workos.getAdminPortal()
        .generateLink("org_123", null, null, GenerateLinkIntent.AuditLogs, itContactEmails).getLink();
  }

  static String run(String name) {
    switch (name) {
      case "snippet":
      case "rate limited":
        return snippet();
      case "wrong key":
        return call("sk_live_not_accepted", null);
      case "invalid":
        // The enum cannot send an intent outside it: a contact that is no address.
        return call(System.getenv("WORKOS_API_KEY"), List.of("it desk"));
      default:
        throw new IllegalArgumentException("no case " + name);
    }
  }

  static String quote(Object v) {
    if (v == null) return "null";
    if (v instanceof Number) return v.toString();
    return "\"" + v.toString().replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
  }

  public static void main(String[] args) throws Exception {
    baseURL = args[0];
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    for (String name; (name = in.readLine()) != null; ) {
      String result;
      try {
        result = "{\"case\":" + quote(name) + ",\"ok\":true,\"link\":" + quote(run(name)) + "}";
      } catch (WorkOSException e) {
        Long retryAfter = e instanceof RateLimitException ? ((RateLimitException) e).retryAfterSeconds : null;
        result = "{\"case\":" + quote(name) + ",\"ok\":false,\"error\":" + quote(e.getClass().getSimpleName())
            + ",\"status\":" + e.status + ",\"requestID\":" + quote(e.requestId)
            + ",\"retryAfter\":" + quote(retryAfter) + ",\"message\":" + quote(e.getMessage()) + "}";
      } catch (RuntimeException e) {
        result = "{\"case\":" + quote(name) + ",\"ok\":false,\"error\":" + quote(e.getClass().getSimpleName())
            + ",\"message\":" + quote(e.getMessage()) + "}";
      }
      System.out.println(result);
      System.out.flush();
    }
  }
}
