package dev.tracingoperator.javaremote;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Configured only by OTEL_* environment variables (SDK autoconfigure, with the Jaeger remote
 * sampler on the classpath). Reads commands from stdin, one per line:
 *
 * <pre>
 *   send N NAME   start and end N root spans named NAME, the rest of the line, spaces included
 *                 (e.g. "POST /tasks"; each its own trace), force-flush,
 *                 print {"sent":N,"sampled":K} (K = spans whose SpanContext is sampled)
 *   quit          shut the SDK down and exit 0 (EOF on stdin does the same)
 * </pre>
 *
 * Anything else prints {"error":"..."}. Every reply is one line on stdout; the SDK's own
 * logging goes to stderr.
 */
public final class App {
  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    OpenTelemetrySdk sdk = AutoConfiguredOpenTelemetrySdk.initialize().getOpenTelemetrySdk();
    Tracer tracer = sdk.getTracer("tracing-operator-java-remote");
    System.err.println("otel-java-remote: ready, sampler=" + sdk.getSdkTracerProvider().getSampler().getDescription());

    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      String[] f = line.trim().split("\\s+", 3);
      if (f.length == 0 || f[0].isEmpty()) {
        continue;
      }
      if (f[0].equals("quit")) {
        break;
      }
      if (f[0].equals("send") && f.length == 3) {
        int n;
        try {
          n = Integer.parseInt(f[1]);
        } catch (NumberFormatException e) {
          out.println("{\"error\":\"bad count\"}");
          continue;
        }
        int sampled = 0;
        for (int i = 0; i < n; i++) {
          Span span = tracer.spanBuilder(f[2]).setParent(Context.root()).startSpan();
          if (span.getSpanContext().isSampled()) {
            sampled++;
          }
          span.end();
        }
        CompletableResultCode flush = sdk.getSdkTracerProvider().forceFlush().join(30, TimeUnit.SECONDS);
        if (!flush.isSuccess()) {
          System.err.println("otel-java-remote: forceFlush did not succeed");
        }
        out.println("{\"sent\":" + n + ",\"sampled\":" + sampled + "}");
        continue;
      }
      out.println("{\"error\":\"unknown command\"}");
    }
    CompletableResultCode shutdown = sdk.shutdown().join(30, TimeUnit.SECONDS);
    System.err.println("otel-java-remote: shutdown " + (shutdown.isSuccess() ? "ok" : "failed"));
    out.flush();
    // The SDK is already shut down (and flushed); halt skips autoconfigure's own shutdown hook,
    // which would only log "Multiple shutdown calls".
    Runtime.getRuntime().halt(0);
  }
}
