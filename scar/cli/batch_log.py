"""`scar log -n NAME -ri JOB_ID` for a function that uses AWS Batch: the job's status and, once it ran, its
CloudWatch events (`/aws/batch/job`, the job's own stream)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scar.aws.lambda_ import Lambda
from scar.aws.logs import Logs
from scar.aws.tags import TAG_EXECUTION_MODE
from scar.errors import ScarError

if TYPE_CHECKING:
    from scar.aws.session import AwsSession
    from scar.cli.main import Context

BATCH_LOG_GROUP = "/aws/batch/job"


def batch_job(session: AwsSession, function: str, job_id: str) -> dict[str, Any] | None:
    """The job `job_id` of `function` when the function uses AWS Batch and Batch knows the job; else None
    (a Lambda request id: its events are in the function's own log group)."""
    remote = Lambda(session.client("lambda")).get_function(function)
    if remote is None or not (remote.get("Tags") or {}).get(TAG_EXECUTION_MODE):
        return None
    jobs = session.client("batch").describe_jobs(jobs=[job_id])["jobs"]
    if not jobs:
        return None
    if jobs[0].get("jobName") != function:
        raise ScarError(f"job {job_id} is not a job of function {function} (it is {jobs[0].get('jobName')!r})")
    return jobs[0]


def _stream(job: dict[str, Any]) -> str | None:
    container = job.get("container") or {}
    if container.get("logStreamName"):
        return str(container["logStreamName"])
    for attempt in reversed(job.get("attempts") or ()):
        if (attempt.get("container") or {}).get("logStreamName"):
            return str(attempt["container"]["logStreamName"])
    return None


def show_job(ctx: Context, session: AwsSession, job: dict[str, Any]) -> int:
    status, reason, stream = job["status"], job.get("statusReason"), _stream(job)
    logs = Logs(session.client("logs"))
    events: list[dict[str, Any]] = []
    if stream and logs.get_group(BATCH_LOG_GROUP) is not None:
        events = list(logs.events(BATCH_LOG_GROUP, streams=[stream], pattern=None, start_ms=None))
    document = {"JobId": job["jobId"], "JobName": job["jobName"], "Status": status, "StatusReason": reason,
                "LogGroupName": BATCH_LOG_GROUP, "LogStreamName": stream,
                "Events": [{"Timestamp": e.get("timestamp"), "Message": e.get("message")} for e in events]}
    lines = [f"AWS Batch job {job['jobId']} ({job['jobName']}): {status}" + (f" ({reason})" if reason else "")]
    lines += [e.get("message", "").rstrip("\n") for e in events]
    if not events:
        ctx.output.notice("no log events yet" if status not in ("SUCCEEDED", "FAILED") else
                          f"no log events in {BATCH_LOG_GROUP}" + (f" stream {stream}" if stream else ""))
    ctx.output.result(document, "\n".join(lines))
    return 0
