"""Interop client for Mekong's gRPC transport, on Debian's grpcio (a client nobody here wrote).

Usage: client.py STUBS_DIR TARGET SCENARIO
STUBS_DIR holds the stubs protoc generated from proto/mekong/v1 at test time; TARGET is host:port.
Prints one line per checked step and "PASS <scenario>" at the end; exits non-zero on any mismatch.
"""
import sys
import time

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402
from google.protobuf import duration_pb2  # noqa: E402
from mekong.v1 import agent_pb2, agent_pb2_grpc, jobs_pb2, jobs_pb2_grpc  # noqa: E402
import queue  # noqa: E402

TARGET, SCENARIO = sys.argv[2], sys.argv[3]
METADATA = (("authorization", "Bearer carol"),)


def check(condition, what):
    if not condition:
        print("FAIL " + what, flush=True)
        sys.exit(1)
    print("ok   " + what, flush=True)


def spec(project="uni-py/crud", gpus=2):
    return jobs_pb2.JobSpec(project=project, name="py", gpus_per_node=gpus, gpu_type="h100",
                            walltime=duration_pb2.Duration(seconds=3600), command=["python", "train.py"])


def expect_error(call, code, text, what):
    try:
        call()
    except grpc.RpcError as e:
        check(e.code() == code, f"{what}: status {e.code()} is {code}")
        check(text in e.details(), f"{what}: message {e.details()!r} mentions {text!r}")
        return
    check(False, f"{what}: call failed")


def main():
    with grpc.insecure_channel(TARGET) as channel:
        jobs = jobs_pb2_grpc.JobServiceStub(channel)
        if SCENARIO == "crud":
            job = jobs.SubmitJob(jobs_pb2.SubmitJobRequest(spec=spec()), metadata=METADATA, timeout=10).job
            check(job.id.startswith("j-") and job.user == "carol", "submit returns the job with the caller as user")
            check(job.state == jobs_pb2.JOB_STATE_PENDING, "submitted job is pending")
            got = jobs.GetJob(jobs_pb2.GetJobRequest(id=job.id), timeout=10).job
            check(got == job, "get returns the same job")
            for _ in range(2):
                jobs.SubmitJob(jobs_pb2.SubmitJobRequest(spec=spec()), metadata=METADATA, timeout=10)
            page = jobs.ListJobs(jobs_pb2.ListJobsRequest(project="uni-py/crud", page_size=2), timeout=10)
            check(len(page.jobs) == 2 and page.next_page_token != "", "list pages by two")
            rest = jobs.ListJobs(jobs_pb2.ListJobsRequest(project="uni-py/crud", page_size=2, page_token=page.next_page_token), timeout=10)
            check(len(rest.jobs) == 1 and rest.next_page_token == "", "second page holds the last job")
            cancelled = jobs.CancelJob(jobs_pb2.CancelJobRequest(id=job.id), metadata=METADATA, timeout=10).job
            check(cancelled.state == jobs_pb2.JOB_STATE_CANCELLED and cancelled.cancelled_by == "carol", "cancel")
            listed = jobs.ListJobs(jobs_pb2.ListJobsRequest(project="uni-py/crud", states=[jobs_pb2.JOB_STATE_CANCELLED]), timeout=10)
            check([j.id for j in listed.jobs] == [job.id], "list filters by state")
            explained = jobs.ExplainJob(jobs_pb2.ExplainJobRequest(id=rest.jobs[0].id), timeout=10)
            check(explained.explanation.reason == jobs_pb2.PENDING_REASON_QUOTA_LIMIT, "explain gives the reason")
        elif SCENARIO == "errors":
            expect_error(lambda: jobs.GetJob(jobs_pb2.GetJobRequest(id="j-ünï 100%"), timeout=10),
                         grpc.StatusCode.NOT_FOUND, "job j-ünï 100% not found", "unknown job")
            expect_error(lambda: jobs.SubmitJob(jobs_pb2.SubmitJobRequest(spec=spec(gpus=0)), timeout=10),
                         grpc.StatusCode.INVALID_ARGUMENT, "gpus_per_node", "zero GPUs")
            unknown = channel.unary_unary("/mekong.v1.JobService/NoSuchMethod",
                                          request_serializer=jobs_pb2.GetJobRequest.SerializeToString,
                                          response_deserializer=jobs_pb2.GetJobResponse.FromString)
            expect_error(lambda: unknown(jobs_pb2.GetJobRequest(id="x"), timeout=10),
                         grpc.StatusCode.UNIMPLEMENTED, "NoSuchMethod", "unknown method")
            big = spec()
            big.env["BLOB"] = "x" * (5 * 1024 * 1024)
            expect_error(lambda: jobs.SubmitJob(jobs_pb2.SubmitJobRequest(spec=big), timeout=10),
                         grpc.StatusCode.RESOURCE_EXHAUSTED, "larger than max", "oversize request")
        elif SCENARIO == "deadline":
            start = time.monotonic()
            expect_error(lambda: jobs.GetJob(jobs_pb2.GetJobRequest(id="slow"), timeout=0.3),
                         grpc.StatusCode.DEADLINE_EXCEEDED, "", "deadline on a slow call")
            check(time.monotonic() - start < 3, "deadline ended the call promptly")
            # The channel still works after a deadline.
            jobs.ListJobs(jobs_pb2.ListJobsRequest(), timeout=10)
        elif SCENARIO == "watch":
            job = jobs.SubmitJob(jobs_pb2.SubmitJobRequest(spec=spec("uni-py/watch")), timeout=10).job
            events = jobs.WatchJob(jobs_pb2.WatchJobRequest(id=job.id), timeout=10)
            first = next(events)
            check(first.type == jobs_pb2.JOB_EVENT_TYPE_SNAPSHOT and first.job.id == job.id, "watch starts with a snapshot")
            jobs.CancelJob(jobs_pb2.CancelJobRequest(id=job.id), timeout=10)
            second = next(events)
            check(second.job.state == jobs_pb2.JOB_STATE_CANCELLED, "watch sees the cancellation")
            check(list(events) == [], "watch ends after the final state")
            check(events.code() == grpc.StatusCode.OK, "watch ends with OK")
        elif SCENARIO == "watch-cancel":
            events = jobs.WatchProject(jobs_pb2.WatchProjectRequest(project="uni-py/cancel"), timeout=30)
            events.initial_metadata()  # the server sends headers once the watch is subscribed
            submitted = jobs.SubmitJob(jobs_pb2.SubmitJobRequest(spec=spec("uni-py/cancel")), timeout=10).job
            first = next(events)
            check(first.type == jobs_pb2.JOB_EVENT_TYPE_SUBMITTED, "project watch sees a submission")
            check(first.job.id == submitted.id or first.job.spec.project == "uni-py/cancel", "event is of the project")
            events.cancel()
            try:
                next(events)
                check(False, "cancelled stream ends")
            except grpc.RpcError as e:
                check(e.code() == grpc.StatusCode.CANCELLED, "cancelled stream reports CANCELLED")
        elif SCENARIO == "agent":
            # Full duplex: each request is written only after the answer to the previous one arrived.
            outbox = queue.Queue()
            responses = agent_pb2_grpc.AgentServiceStub(channel).Connect(iter(outbox.get, None), timeout=10)
            outbox.put(agent_pb2.AgentMessage(sequence=1, hello=agent_pb2.Hello(node_name="py-node")))
            welcome = next(responses)
            check(welcome.welcome.session_id == "s-py-node", "agent stream: welcome answers hello")
            outbox.put(agent_pb2.AgentMessage(sequence=2, inventory=agent_pb2.Inventory(gpus=[agent_pb2.Gpu(index=6, model="NVIDIA H100")])))
            start = next(responses)
            check(list(start.start_job.gpu_indices) == [6], "agent stream: start command for the inventory's GPU")
            outbox.put(None)
            check(list(responses) == [], "agent stream ends when the agent half-closes")
        else:
            check(False, "unknown scenario " + SCENARIO)
    print("PASS " + SCENARIO, flush=True)


if __name__ == "__main__":
    main()
