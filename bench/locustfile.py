"""Locust users for bench/peers.sh and bench/memory.sh (run with the class name on the command line).

    locust -f bench/locustfile.py OneRequestUser --headless -u 50 -r 1000 -t 10s -H http://127.0.0.1:PORT
"""
import gevent.ssl
from locust import FastHttpUser, constant, task


class OneRequestUser(FastHttpUser):
    """peers.sh: no think time, one GET / per iteration (same as bench/one-request.kload)."""

    wait_time = constant(0)

    @task
    def index(self):
        self.client.get("/")


class IdleUser(FastHttpUser):
    """memory.sh: one GET / then 1 s think time, each user on its own keep-alive connection
    (same as bench/idle-users.kload). Over HTTPS (bench/memory.sh -s) the certificate is self-signed:
    no verification (FastHttpUser's default, set here so that it does not depend on it)."""

    wait_time = constant(1)
    insecure = True

    @task
    def index(self):
        self.client.get("/")


def _context_without_ca_bundle(cafile=None, **_):
    """An unverified TLS context that does not load a CA bundle (nothing is verified anyway)."""
    return gevent.ssl._create_unverified_context()


class IdleUserNoCA(IdleUser):
    """memory.sh -s -t locust-noca: IdleUser over HTTPS without the CA bundle per user.
    geventhttpclient (2.6) hands every user's connection pool certifi's CA bundle
    (`ssl_context_factory(cafile=certifi.where())`) even when verification is off, which costs each
    user ~20 ms of CPU and ~770 KiB; this factory ignores it. Still one TLS context per user."""

    ssl_context_factory = staticmethod(_context_without_ca_bundle)
