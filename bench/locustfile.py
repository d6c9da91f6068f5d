"""Locust users for bench/peers.sh and bench/memory.sh (run with the class name on the command line).

    locust -f bench/locustfile.py OneRequestUser --headless -u 50 -r 1000 -t 10s -H http://127.0.0.1:PORT
"""
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
