import io.spiffe.bundle.jwtbundle.JwtBundleSet;
import io.spiffe.svid.jwtsvid.JwtSvid;
import io.spiffe.svid.x509svid.X509Svid;
import io.spiffe.svid.x509svid.X509SvidValidator;
import io.spiffe.workloadapi.DefaultWorkloadApiClient;
import io.spiffe.workloadapi.DefaultX509Source;
import io.spiffe.workloadapi.Watcher;
import io.spiffe.workloadapi.WorkloadApiClient;
import io.spiffe.workloadapi.X509Context;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Interop client for steeple-agent built on java-spiffe, unchanged. Each scenario runs against the
 * Workload API at SPIFFE_ENDPOINT_SOCKET and prints one JSON line; exit code 0 when it held.
 * Driven by test/interop/run.ts.
 */
public final class Interop {
  public static void main(String[] args) {
    if (args.length < 1) fail("usage: Interop <x509|jwt|watch|denied|restart> [arg]");
    try {
      switch (args[0]) {
        case "x509" -> x509();
        case "jwt" -> jwt(args.length > 1 ? args[1] : "interop");
        case "watch" -> watch(args.length > 1 ? Integer.parseInt(args[1]) : 2);
        case "denied" -> denied();
        case "restart" -> restart(args.length > 1 ? Integer.parseInt(args[1]) : 60);
        default -> fail("unknown scenario " + args[0]);
      }
    } catch (Exception e) {
      fail(e.getClass().getSimpleName() + ": " + e.getMessage());
    }
    System.exit(0);
  }

  static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
  }

  static void emit(String json) {
    System.out.println(json);
    System.out.flush();
  }

  static void fail(String message) {
    emit("{\"ok\":false,\"error\":" + quote(message) + "}");
    System.exit(1);
  }

  /** Scenario 1: FetchX509Context; java-spiffe's own chain validation accepts the default SVID. */
  static void x509() throws Exception {
    try (WorkloadApiClient client = DefaultWorkloadApiClient.newClient()) {
      X509Context context = client.fetchX509Context();
      X509Svid svid = context.getDefaultSvid();
      X509SvidValidator.verifyChain(svid.getChain(), context.getX509BundleSet());
      List<String> ids = context.getX509Svids().stream().map(s -> quote(s.getSpiffeId().toString())).collect(Collectors.toList());
      emit("{\"ok\":true,\"id\":" + quote(svid.getSpiffeId().toString()) + ",\"hint\":" + quote(svid.getHint() == null ? "" : svid.getHint())
          + ",\"chain\":" + svid.getChain().size() + ",\"ids\":[" + String.join(",", ids) + "]}");
    }
  }

  /** Scenario 2: a JWT-SVID validated with java-spiffe's JWT bundles and by the agent. */
  static void jwt(String audience) throws Exception {
    try (WorkloadApiClient client = DefaultWorkloadApiClient.newClient()) {
      JwtSvid svid = client.fetchJwtSvid(audience);
      JwtBundleSet bundles = client.fetchJwtBundles();
      JwtSvid local = JwtSvid.parseAndValidate(svid.getToken(), bundles, Set.of(audience));
      JwtSvid remote = client.validateJwtSvid(svid.getToken(), audience);
      boolean refused = false;
      try {
        client.validateJwtSvid(svid.getToken(), audience + "-other");
      } catch (Exception e) {
        refused = true;
      }
      if (!refused) fail("ValidateJWTSVID accepted a wrong audience");
      emit("{\"ok\":true,\"id\":" + quote(svid.getSpiffeId().toString()) + ",\"local\":" + quote(local.getSpiffeId().toString())
          + ",\"agent\":" + quote(remote.getSpiffeId().toString()) + "}");
    }
  }

  /** Scenario 3: an X509Source sees rotations; each SVID verifies against the source's bundles. */
  static void watch(int wanted) throws Exception {
    Set<String> serials = new HashSet<>();
    long deadline = System.currentTimeMillis() + 60_000;
    try (DefaultX509Source source = DefaultX509Source.newSource()) {
      while (serials.size() < wanted && System.currentTimeMillis() < deadline) {
        X509Svid svid = source.getX509Svid();
        X509SvidValidator.verifyChain(svid.getChain(), source);
        serials.add(svid.getLeaf().getSerialNumber().toString());
        Thread.sleep(200);
      }
    }
    if (serials.size() < wanted) fail("saw " + serials.size() + " distinct SVIDs, wanted " + wanted);
    emit("{\"ok\":true,\"distinct_svids\":" + serials.size() + "}");
  }

  record Event(X509Context update, Throwable error) {}

  static LinkedBlockingQueue<Event> stream(WorkloadApiClient client) {
    LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    client.watchX509Context(new Watcher<X509Context>() {
      @Override
      public void onUpdate(X509Context update) {
        events.add(new Event(update, null));
      }

      @Override
      public void onError(Throwable error) {
        events.add(new Event(null, error));
      }
    });
    return events;
  }

  /** Scenario 5a: an unregistered caller is refused, keeps retrying, and gets its SVID once registered. */
  static void denied() throws Exception {
    try (WorkloadApiClient client = DefaultWorkloadApiClient.newClient()) {
      LinkedBlockingQueue<Event> events = stream(client);
      int denied = 0;
      long deadline = System.currentTimeMillis() + 60_000;
      while (System.currentTimeMillis() < deadline) {
        Event e = events.poll(deadline - System.currentTimeMillis(), TimeUnit.MILLISECONDS);
        if (e == null) break;
        if (e.error() != null) {
          String text = String.valueOf(e.error()) + " " + String.valueOf(e.error().getCause());
          if (text.contains("PERMISSION_DENIED") && ++denied == 1) emit("{\"event\":\"denied\"}");
          continue;
        }
        // java-spiffe retries PERMISSION_DENIED internally; the harness counts the refusals in the agent log.
        emit("{\"ok\":true,\"denied\":" + denied + ",\"id\":" + quote(e.update().getDefaultSvid().getSpiffeId().toString()) + "}");
        return;
      }
      fail("no SVID within 60 s (denied " + denied + " times)");
    }
  }

  /** Scenario 5b: prints each update and error of one watch until the timeout (seconds). */
  static void restart(int seconds) throws Exception {
    try (WorkloadApiClient client = DefaultWorkloadApiClient.newClient()) {
      LinkedBlockingQueue<Event> events = stream(client);
      long deadline = System.currentTimeMillis() + seconds * 1000L;
      while (System.currentTimeMillis() < deadline) {
        Event e = events.poll(deadline - System.currentTimeMillis(), TimeUnit.MILLISECONDS);
        if (e == null) break;
        if (e.error() != null) {
          emit("{\"event\":\"error\",\"error\":" + quote(String.valueOf(e.error())) + "}");
        } else {
          X509Svid svid = e.update().getDefaultSvid();
          emit("{\"event\":\"update\",\"id\":" + quote(svid.getSpiffeId().toString()) + ",\"serial\":" + quote(svid.getLeaf().getSerialNumber().toString()) + "}");
        }
      }
      emit("{\"ok\":true}");
    }
  }
}
