"""Building botocore clients: a command's session and clients, and a Lambda worker's first.

Every command builds its own session and clients (service x region x deadline, about 20
for an `up`), as a new process would; tests and the demo run thousands of commands in one
process. CPU time (this process's, or the forked child's), no AWS call made. The worker
row forks a child of a process prepared as the sandbox's Lambda fork server prepares
itself (failover_cli/sandbox/lambda_/zygote.py) and times the function's first DynamoDB
client there, as the deep ping builds it.
"""

from __future__ import annotations

import os
import statistics
import time

from benchmarks.report import Section, Table, ms

SERVICES = (
    "lambda",
    "dynamodb",
    "iam",
    "logs",
    "sns",
    "apigateway",
    "route53",
    "cloudwatch",
    "application-autoscaling",
    "sts",
)
REGIONS = ("us-east-1", "us-west-2")
RUNS = 15


def _command_clients() -> tuple[float, float]:
    """(a fresh factory's session, its 20 clients): CPU seconds."""
    from failover_cli.aws.clients import ClientFactory

    factory = ClientFactory()
    start = time.process_time()
    factory.session  # noqa: B018
    made = time.process_time()
    for service in SERVICES:
        for region in REGIONS:
            factory.client(service, region)
    return made - start, time.process_time() - made


def _worker_first_client() -> float:
    """CPU seconds of a forked child's first DynamoDB client (the deep ping's)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: time it, say it, leave without running the parent's cleanup
        import boto3

        start = time.process_time()
        boto3.session.Session().client("dynamodb", region_name="us-west-2")
        os.write(write, str(time.process_time() - start).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        spent = float(answer.read())
    os.waitpid(pid, 0)
    return spent


def run() -> Section:
    from failover_cli.sandbox.lambda_ import zygote

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    _command_clients()  # the first command parses the models: not what later ones pay
    sessions, clients = zip(*(_command_clients() for _ in range(RUNS)), strict=True)
    zygote._load_botocore_data_once()
    workers = [_worker_first_client() for _ in range(RUNS)]
    section = Section("clients", "Building clients (CPU)")
    section.tables.append(
        Table(
            f"Median of {RUNS}, after a first command (which parses botocore's models)",
            ("what", "CPU"),
            (
                ("a command's session", ms(statistics.median(sessions), 1)),
                (
                    f"a command's {len(SERVICES) * len(REGIONS)} clients",
                    ms(statistics.median(clients), 1),
                ),
                ("a Lambda worker's first DynamoDB client", ms(statistics.median(workers), 1)),
            ),
        )
    )
    section.data = {"session": sessions, "clients": clients, "worker_first_client": workers}
    return section
