"""``SalesforceEmulator``: Salesforce REST v59.0 for simple-salesforce, on the sandbox framework."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import flask
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import Map, Rule

from hub.sandbox.core import Emulator
from hub.sandbox.salesforce import api, composite, oauth
from hub.sandbox.salesforce.api import Call, Reply
from hub.sandbox.salesforce.errors import SalesforceApiError, json_parser_error, not_found
from hub.sandbox.salesforce.outbound import OutboundMessages
from hub.sandbox.salesforce.seeding import seed_store
from hub.sandbox.salesforce.schema import sobject
from hub.sandbox.salesforce.store import MultipleMatches, Store

DATA = "/services/data/v<version>"
API_MAX = 15000  # Developer Edition's daily API allocation
# Resources that commit per record or per subrequest themselves; every other call is one transaction.
OWN_TRANSACTIONS = frozenset({"collection", "collection_upsert", "collection_retrieve", "composite",
                              "composite_batch"})
# (rule, endpoint, methods, handler); the rules double as the stats path templates.
ROUTES: list[tuple[str, str, tuple[str, ...], object]] = [
    (f"{DATA}/", "resources", ("GET",), api.resources),
    (f"{DATA}/sobjects/", "global_describe", ("GET",), api.global_describe),
    (f"{DATA}/sobjects/<sobject>/", "sobject", ("GET", "POST"), api.sobject_basic),
    (f"{DATA}/sobjects/<sobject>/describe/", "describe", ("GET",), api.describe),
    (f"{DATA}/sobjects/<sobject>/updated/", "updated", ("GET",), api.updated),
    (f"{DATA}/sobjects/<sobject>/deleted/", "deleted", ("GET",), api.deleted),
    (f"{DATA}/sobjects/<sobject>/<record_id>", "record", ("GET", "PATCH", "DELETE"), api.record),
    (f"{DATA}/sobjects/<sobject>/<field_name>/<path:value>", "external_id", ("GET", "PATCH", "DELETE"),
     api.by_external_id),
    (f"{DATA}/query/", "query", ("GET",), api.query),
    (f"{DATA}/query/<locator>", "query_more", ("GET",), api.query_more),
    (f"{DATA}/queryAll/", "query_all", ("GET",), api.query_all),
    (f"{DATA}/queryAll/<locator>", "query_all_more", ("GET",), api.query_more),
    (f"{DATA}/limits/", "limits", ("GET",), api.limits),
    (f"{DATA}/search/", "search", ("GET",), api.search),
    (f"{DATA}/composite/", "composite", ("POST",), composite.composite),
    (f"{DATA}/composite/batch/", "composite_batch", ("POST",), composite.batch),
    (f"{DATA}/composite/sobjects/", "collection", ("POST", "PATCH", "DELETE"), composite.collection),
    (f"{DATA}/composite/sobjects/<sobject>/", "collection_retrieve", ("GET", "POST"),
     composite.collection_retrieve),
    (f"{DATA}/composite/sobjects/<sobject>/<field_name>", "collection_upsert", ("PATCH",),
     composite.collection_upsert),
]


class SalesforceEmulator(Emulator):
    """Salesforce REST API for Case, CaseComment, Contact, Account, ContentVersion, ContentDocumentLink."""

    name = "salesforce"
    prefixes = ("/services/",)

    def __init__(self, sandbox):
        super().__init__(sandbox)
        self.store = Store(self.now)
        self.cursors = api.Cursors()
        self.outbound = OutboundMessages(self)
        self.store.listeners.append(self.outbound.on_changes)
        self.api_used = 0
        self.api_max = API_MAX
        self.enforce_allocation = False  # only once a test sets one: a long demo would exhaust 15,000 a day
        self._map = Map([Rule(rule, endpoint=endpoint, methods=list(methods), strict_slashes=False)
                         for rule, endpoint, methods, _ in ROUTES])
        self._handlers = {endpoint: handler for _, endpoint, _, handler in ROUTES}

    # -- Emulator contract ------------------------------------------------------------------------------------
    def authenticate(self, request: flask.Request) -> bool:
        if request.path.startswith("/services/oauth2/") or request.path.rstrip("/") == "/services/data":
            return True
        return request.headers.get("Authorization", "") in (f"Bearer {oauth.ACCESS_TOKEN}",
                                                             f"OAuth {oauth.ACCESS_TOKEN}")

    def unauthorized(self) -> flask.Response:
        return _json([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}], 401,
                     {"WWW-Authenticate": 'Token'})

    def rate_limited(self, retry_after: int) -> flask.Response:
        # Salesforce answers an exhausted allocation with 403 and no Retry-After.
        return _json([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}], 403)

    def server_error(self, status: int) -> flask.Response:
        if status == 503:
            body = [{"message": "Server is temporarily unavailable. Please try again later.",
                     "errorCode": "SERVER_UNAVAILABLE"}]
        else:
            body = [{"message": "An unexpected error occurred. Please include this ErrorId if you contact "
                                "support: 1843290731-51337 (-1287632145)", "errorCode": "UNKNOWN_EXCEPTION"}]
        return _json(body, status)

    def rate_headers(self, limit: int, remaining: int) -> dict:
        return {"Sforce-Limit-Info": self._usage()}

    def reset(self) -> None:
        with self.sandbox.lock:
            self.store.reset()
            self.cursors.clear()
            self.outbound.reset()
            self.api_used = 0
            self.api_max = API_MAX
            self.enforce_allocation = False

    def seed(self, dataset) -> None:
        with self.sandbox.lock:
            seed_store(self.store, dataset)

    # -- HTTP ------------------------------------------------------------------------------------------------
    def blueprint(self) -> flask.Blueprint:
        bp = flask.Blueprint("salesforce", __name__)
        for rule, endpoint, methods, _ in ROUTES:
            bp.add_url_rule(rule, endpoint, self._view(endpoint), methods=list(methods), strict_slashes=False)
        bp.add_url_rule("/services/data/", "versions", lambda: _json(api.versions()), methods=["GET"])
        bp.add_url_rule("/services/oauth2/token", "token", self._token, methods=["POST"])
        bp.add_url_rule("/services/<path:rest>", "unknown", self._unknown,
                        methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
        bp.add_url_rule("/_sandbox/salesforce/allocation", "allocation", self._allocation, methods=["GET", "POST"])
        bp.add_url_rule("/_sandbox/salesforce/merge", "merge", self._merge, methods=["POST"])
        bp.add_url_rule("/_sandbox/salesforce/outbound", "outbound", self._outbound,
                        methods=["GET", "POST", "DELETE"])
        bp.before_request(self._count)
        bp.after_request(self._after)
        return bp

    def _view(self, endpoint: str):
        def view(version: str, **kwargs):
            request = flask.request
            body = None
            if request.method in ("POST", "PATCH", "PUT") and request.get_data():
                try:
                    body = json.loads(request.get_data())
                except ValueError as exc:
                    return _reply(Reply(400, json_parser_error(f"Unexpected character in JSON body: {exc}").body()))
            call = Call(request.method, version, dict(request.args), body, dict(request.headers))
            return _reply(self.handle(endpoint, call, kwargs))
        view.__name__ = f"salesforce_{endpoint}"
        return view

    def handle(self, endpoint: str, call: Call, kwargs: dict) -> Reply:
        """Run one resource handler under the sandbox lock, turning API errors into Salesforce replies."""
        try:
            api.check_version(call.version)
            with self.sandbox.lock:
                if endpoint in OWN_TRANSACTIONS:
                    return self._handlers[endpoint](self, call, **kwargs)
                with self.store.transaction():
                    return self._handlers[endpoint](self, call, **kwargs)
        except MultipleMatches as exc:
            return Reply(300, exc.urls(call.version))
        except SalesforceApiError as exc:
            return Reply(exc.status, exc.body())

    def dispatch(self, method: str, url: str, body, headers: dict) -> Reply:
        """Route a composite subrequest (``/services/data/vXX.X/...``) to its handler."""
        parts = urlsplit(url)
        adapter = self._map.bind("sandbox", url_scheme="http")
        try:
            endpoint, kwargs = adapter.match(parts.path, method=method)
        except HTTPException:
            return Reply(404, not_found().body())
        version = kwargs.pop("version")
        call = Call(method, version, dict(parse_qsl(parts.query)), body, headers)
        return self.handle(endpoint, call, kwargs)

    def _token(self) -> flask.Response:
        status, body = oauth.token(flask.request.form, flask.request.host_url, self.now())
        return _json(body, status)

    def _unknown(self, rest: str) -> flask.Response:
        try:
            self._map.bind("sandbox").match(flask.request.path, method=flask.request.method)
        except MethodNotAllowed as exc:
            allowed = ",".join(sorted(set(exc.valid_methods or []) - {"HEAD", "OPTIONS"}))
            return _json([{"errorCode": "METHOD_NOT_ALLOWED",
                           "message": f"HTTP Method '{flask.request.method}' not allowed. Allowed are {allowed}"}],
                         405, {"Allow": allowed})
        except HTTPException:
            pass
        return _json(not_found().body(), 404)

    def _outbound(self) -> flask.Response:
        if flask.request.method == "POST":
            try:
                with self.sandbox.lock:
                    listener = self.outbound.register(flask.request.get_json(silent=True))
            except SalesforceApiError as exc:
                return _json(exc.body(), exc.status)
            return _json(listener.describe(), 201)
        if flask.request.method == "DELETE":
            with self.sandbox.lock:
                self.outbound.reset()
            return flask.Response(status=204)
        return _json({"listeners": [listener.describe() for listener in self.outbound.listeners]})

    def _usage(self) -> str:
        return f"api-usage={self.api_used}/{self.api_max}"

    def _count(self) -> flask.Response | None:
        # Runs after the framework's checks, so calls refused for their session or the limit are not counted.
        if flask.request.path.startswith("/services/data/"):
            with self.sandbox.lock:
                if self.enforce_allocation and self.api_used >= self.api_max:
                    return self.rate_limited(0)
                self.api_used += 1
        return None

    def _allocation(self) -> flask.Response:
        """``POST /_sandbox/salesforce/allocation {"max", "used"}``: set and enforce the daily API allocation."""
        if flask.request.method == "POST":
            body = flask.request.get_json(silent=True) or {}
            maximum, used = body.get("max", self.api_max), body.get("used", self.api_used)
            if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (maximum, used)):
                return _json({"error": "max and used must be integers >= 0"}, 400)
            with self.sandbox.lock:
                self.api_max, self.api_used, self.enforce_allocation = maximum, used, True
        return _json({"max": self.api_max, "used": self.api_used, "enforced": self.enforce_allocation})

    def _merge(self) -> flask.Response:
        """``POST /_sandbox/salesforce/merge {"sobject", "master", "victims": [...]}``: a merge as a person makes it
        in Salesforce (the REST API has no merge; it is SOAP ``merge()`` or Apex), for tests of merge propagation."""
        body = flask.request.get_json(silent=True) or {}
        sobj = sobject(str(body.get("sobject") or ""))
        if sobj is None or not body.get("master") or not isinstance(body.get("victims"), list):
            return _json({"error": "sobject, master and victims are required"}, 400)
        try:
            with self.sandbox.lock:
                self.store.merge(sobj, str(body["master"]), [str(v) for v in body["victims"]])
        except SalesforceApiError as exc:
            return _json([{"errorCode": exc.code, "message": exc.message}], exc.status)
        return _json({"merged": True})

    def _after(self, response: flask.Response) -> flask.Response:
        if flask.request.path.startswith("/services/data/"):
            response.headers["Sforce-Limit-Info"] = self._usage()
        return response


def _json(body, status: int = 200, headers: dict | None = None) -> flask.Response:
    response = flask.Response(json.dumps(body), status=status, mimetype="application/json")
    response.headers["Content-Type"] = "application/json;charset=UTF-8"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _reply(reply: Reply) -> flask.Response:
    if isinstance(reply.body, bytes):
        return flask.Response(reply.body, status=reply.status, headers=reply.headers)
    if reply.body is None and reply.status == 204:
        response = flask.Response(status=204)
        for name, value in reply.headers.items():
            response.headers[name] = value
        return response
    return _json(reply.body, reply.status, reply.headers)
