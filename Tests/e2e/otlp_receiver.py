"""A tiny OTLP/HTTP trace receiver for the end-to-end tests: it accepts
`POST /v1/traces` with the JSON encoding (opentelemetry-proto's JSON mapping,
what Muster's exporter sends), answers 200 `{}`, and keeps every span with
the `service.name` of its resource. Anything else gets 404/415/400, so an
exporter speaking the wrong protocol fails visibly (its export failures are
counted and logged by the service)."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self):
        self.spans = []
        self.rejected = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path != "/v1/traces":
                    return self.answer(404, receiver.reject(f"path {self.path}"))
                if not self.headers.get("Content-Type", "").startswith("application/json"):
                    return self.answer(415, receiver.reject(f"content type {self.headers.get('Content-Type')}"))
                try:
                    spans = receiver.parse(json.loads(body))
                except (ValueError, KeyError, TypeError) as error:
                    return self.answer(400, receiver.reject(f"body: {error}"))
                with receiver.lock:
                    receiver.spans.extend(spans)
                self.answer(200, {})

            def answer(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reject(self, why):
        with self.lock:
            self.rejected.append(why)
        return {"error": why}

    @staticmethod
    def value(any_value):
        for key in ("stringValue", "boolValue", "doubleValue"):
            if key in any_value:
                return any_value[key]
        if "intValue" in any_value:
            return int(any_value["intValue"])
        return any_value

    @classmethod
    def parse(cls, request):
        spans = []
        for resource_spans in request["resourceSpans"]:
            resource = {a["key"]: cls.value(a["value"]) for a in resource_spans["resource"]["attributes"]}
            for scope in resource_spans["scopeSpans"]:
                for span in scope["spans"]:
                    spans.append({
                        "service": resource["service.name"],
                        "traceId": span["traceId"], "spanId": span["spanId"],
                        "parentSpanId": span.get("parentSpanId") or None,
                        "name": span["name"], "kind": span["kind"],
                        "start": int(span["startTimeUnixNano"]), "end": int(span["endTimeUnixNano"]),
                        "attributes": {a["key"]: cls.value(a["value"]) for a in span.get("attributes", [])},
                        "links": [(link["traceId"], link["spanId"]) for link in span.get("links", [])],
                    })
        return spans

    def snapshot(self):
        with self.lock:
            return list(self.spans)

    def stop(self):
        self.server.shutdown()
