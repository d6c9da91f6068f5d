"""scenarios/kibray.kload for Locust (FastHttpUser), with the waits removed: bench/kibray.sh's Locust side.

    locust -f bench/kibray_locust.py --headless -u 50 -r 1000 -t 10s -H http://127.0.0.1:PORT

The same three classes with the same weights (10/1/2), tasks and task weights, requests, names, JSON
bodies, captures and checks as bench/kibray-nowait.kload. kload's semantics are followed where Locust
leaves a choice:

- every check is evaluated in order and the first that fails marks the request failed; captures are
  taken after the checks, whatever the status, and a capture that finds nothing keeps the variable's
  previous value (a failure only if the request had none yet);
- `capture ... all` of a JSON body without a match is an empty list, not a failure;
- the Authorization header is sent once `token` is set (kload leaves a class header out until its
  variables are set); `Accept: application/json` on every request;
- `seq()` is one counter for the whole run; accounts are handed out in file order, each row to one
  user (`unique`), admins from their own file;
- the 200 KB image (200,000 bytes, `200KB`) is random bytes made once, sent as multipart/form-data.

Differences that could not be avoided:

- a request whose template cannot be rendered (a variable never captured) is not sent by either tool;
  kload counts it as a failed request with 0 ms, here it is a failure event named like kload's row;
- JSON is parsed with `response.json()` and the JSONPath expressions are written out in Python
  (`$.results[*].id` = the "id" of each element of "results");
- Locust adds `Accept-Encoding: gzip, deflate, br` (the demo target does not compress).
"""
import csv
import itertools
import json
import os
import random
import time
from pathlib import Path

from locust import FastHttpUser, constant, task

DATA = Path(os.environ.get("KIBRAY_DATA", Path(__file__).resolve().parent.parent / "scenarios" / "data"))
API = "/api/v1"


def _rows(name):
    with open(DATA / name, newline="") as f:
        return list(csv.DictReader(f))


ACCOUNTS = iter(_rows("accounts.csv"))   # `unique`: each row to one user
ADMINS = iter(_rows("admins.csv"))
SEQ = itertools.count(1)                 # `seq()`: one counter for the run
IMAGE = os.urandom(200_000)              # `random 200KB`, made once
BOUNDARY = "kloadbenchboundary7d1f2a9c"


def multipart(fields, file_field, file_name, content_type, content):
    out = []
    for k, v in fields:
        out.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    out.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{file_name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
    )
    out.append(content)
    out.append(f"\r\n--{BOUNDARY}--\r\n".encode())
    return b"".join(out)


def body_json(resp):
    try:
        return resp.json()
    except Exception:
        return None


def ids(doc):
    """`$.results[*].id`: None when the body is not JSON (capture fails), else a list."""
    if doc is None:
        return None
    results = doc.get("results") if isinstance(doc, dict) else None
    if not isinstance(results, list):
        return []
    return [r["id"] for r in results if isinstance(r, dict) and "id" in r]


class Kibray(FastHttpUser):
    abstract = True
    wait_time = constant(0)

    def on_start(self):
        self.token = None
        self.vars = {}

    def headers(self):
        h = {"Accept": "application/json"}
        if self.token is not None:
            h["Authorization"] = f"Bearer {self.token}"
        return h

    def call(self, method, path, name, status, json_body=None, data=None, content_type=None,
             exists=None, max_ms=None, capture=None):
        """One request: checks in kload's order, then `capture(resp, parsed body)` inside the with block."""
        headers = self.headers()
        if content_type:
            headers["Content-Type"] = content_type
        with self.client.request(method, API + path, name=name, headers=headers, json=json_body, data=data,
                                 catch_response=True) as resp:
            doc = None
            if resp.status_code != status:
                resp.failure(f"check failed: `check status {status}`: got status {resp.status_code}")
            elif exists is not None:
                doc = body_json(resp)
                if not (isinstance(doc, dict) and exists in doc):
                    resp.failure(f'check failed: `check jsonpath "$.{exists}" exists`')
            elif max_ms is not None and resp.request_meta["response_time"] >= max_ms:
                resp.failure(f"check failed: `check duration < {max_ms / 1000:g}s`")
            if capture is not None:
                capture(resp, body_json(resp) if doc is None else doc)
            if resp._manual_result is None:
                resp.success()

    def capture_failed(self, resp, what):
        if resp._manual_result is None:   # the first failure names the row, as in kload
            resp.failure(f"`{what}` found nothing")

    def template_error(self, method, name, var):
        self.environment.events.request.fire(
            request_type=method, name=name, response_time=0, response_length=0, response=None, context={},
            exception=Exception(f"variable `{var}` is not set (did a capture fail?)"), start_time=time.time(),
            url=None)

    def login(self, row):
        def token(resp, doc):
            if isinstance(doc, dict) and "access" in doc:
                self.token = doc["access"]
            else:
                self.capture_failed(resp, 'jsonpath "$.access"')
        self.call("POST", "/auth/login/", "login", 200,
                  json_body={"username": row["username"], "password": row["password"]}, capture=token)

    def project_list_capture(self):
        self.call("GET", "/projects/", "/api/v1/projects/", 200, capture=self.capture_all("project_ids"))

    def capture_all(self, var):
        """`capture VAR = jsonpath "$.results[*].id" all`"""
        def capture(resp, doc):
            found = ids(doc)
            if found is None:
                self.capture_failed(resp, 'jsonpath "$.results[*].id" all')
            else:
                self.vars[var] = found
        return capture

    def choice_project(self, method, name):
        pids = self.vars.get("project_ids")
        if not pids:   # unset, or kload's "choice of an empty list"
            self.template_error(method, name, "project_ids")
            return None
        return random.choice(pids)


class KibrayUser(Kibray):
    """Regular users: most of the traffic."""
    weight = 10

    def on_start(self):
        super().on_start()
        self.account = next(ACCOUNTS)
        self.login(self.account)
        self.project_list_capture()

    @task(3)
    def view_dashboard(self):
        self.call("GET", "/bi/kpis/", "/api/v1/bi/kpis/", 200)

    @task(5)
    def list_projects(self):
        self.call("GET", "/projects/?page=1", "/api/v1/projects/", 200, exists="results")

    @task(2)
    def view_project(self):
        pid = self.choice_project("GET", "/api/v1/projects/[id]/")
        if pid is not None:
            self.call("GET", f"/projects/{pid}/", "/api/v1/projects/[id]/", 200, exists="id")

    @task(4)
    def list_tasks(self):
        pid = self.choice_project("GET", "/api/v1/tasks/")
        if pid is not None:
            self.call("GET", f"/tasks/?project={pid}", "/api/v1/tasks/", 200)

    @task(1)
    def create_task(self):
        pid = self.choice_project("POST", "/api/v1/tasks/")
        if pid is not None:
            self.call("POST", "/tasks/", "/api/v1/tasks/", 201, json_body={
                "title": f"Load test task {next(SEQ)}",
                "project": pid,
                "status": "Pending",
                "priority": random.choice(("low", "medium", "high", "urgent")),
            })

    @task(2)
    def view_time_entries(self):
        self.call("GET", "/time-entries/", "/api/v1/time-entries/", 200)

    @task(1)
    def create_time_entry(self):
        pid = self.choice_project("POST", "/api/v1/time-entries/")
        if pid is not None:
            self.call("POST", "/time-entries/", "/api/v1/time-entries/", 201, json_body={
                "employee": int(self.account["employee"]),
                "project": pid,
                "date": time.strftime("%Y-%m-%d"),
                "start_time": "08:00",
            })

    @task(2)
    def view_schedule(self):
        self.call("GET", "/schedule/items/", "/api/v1/schedule/items/", 200)

    @task(1)
    def search(self):
        q = random.choice(("roof", "kitchen", "paint", "drywall"))
        self.call("GET", f"/search/?q={q}", "/api/v1/search/", 200)

    @task(1)
    def view_analytics(self):
        self.call("GET", "/bi/kpis/?period=month", "/api/v1/bi/kpis/ (analytics)", 200)


class AdminUser(Kibray):
    """Administrators: few, but they run the heavy pages."""
    weight = 1

    def on_start(self):
        super().on_start()
        self.login(next(ADMINS))

    @task(2)
    def admin_dashboard(self):
        self.call("GET", "/dashboards/admin/", "/api/v1/dashboards/admin/", 200)

    @task(1)
    def export_data(self):
        self.call("GET", "/tasks/?page_size=500", "/api/v1/tasks/ (export)", 200, max_ms=5000)

    @task(1)
    def detailed_analytics(self):
        self.call("GET", "/bi/kpis/?detail=full", "/api/v1/bi/kpis/ (detailed)", 200)

    @task(1)
    def bulk_operations(self):
        self.call("GET", "/tasks/?status=Under+Review", "/api/v1/tasks/", 200,
                  capture=self.capture_all("review_ids"))
        if self.vars.get("review_ids"):
            self.call("POST", "/tasks/bulk-update/", "/api/v1/tasks/bulk-update/", 200, json_body={
                "task_ids": self.vars["review_ids"], "action": "status", "value": "Completed"})


class APIOnlyUser(Kibray):
    """Mobile and integration clients: sync, push updates, upload site photos."""
    weight = 2

    def on_start(self):
        super().on_start()
        self.login(next(ACCOUNTS))
        self.project_list_capture()

    def capture_task_id(self, resp, doc):
        """`capture task_id = jsonpath "$.results[*].id" random`"""
        found = ids(doc)
        if found:
            self.vars["task_id"] = random.choice(found)
        else:
            self.capture_failed(resp, 'jsonpath "$.results[*].id" random')

    @task(5)
    def sync_data(self):
        self.call("GET", "/tasks/?page_size=50", "/api/v1/tasks/", 200, capture=self.capture_task_id)

    @task(3)
    def push_updates(self):
        self.call("GET", "/tasks/", "/api/v1/tasks/", 200, capture=self.capture_task_id)
        tid = self.vars.get("task_id")
        if tid is None:
            self.template_error("PATCH", "/api/v1/tasks/[id]/", "task_id")
            return
        self.call("PATCH", f"/tasks/{tid}/", "/api/v1/tasks/[id]/", 200, json_body={
            "status": random.choice(("In Progress", "Under Review", "Completed"))})

    @task(1)
    def upload_photo(self):
        pid = self.choice_project("POST", "/api/v1/site-photos/")
        if pid is None:
            return
        body = multipart([("project", pid), ("caption", f"Site photo {next(SEQ)}")],
                         "image", "site.jpg", "image/jpeg", IMAGE)
        self.call("POST", "/site-photos/", "/api/v1/site-photos/", 201, data=body,
                  content_type=f"multipart/form-data; boundary={BOUNDARY}")

    @task(1)
    def health(self):
        self.call("GET", "/health/", "/api/v1/health/", 200)
