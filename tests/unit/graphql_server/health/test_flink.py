"""The Flink jobs from REST answers (Flink 2.0's shapes), late drops and source rates summed."""

from graphql_server.health.flink import JobInfo, read_jobs

JOB = "c4d919c0511a085dad7b8f3bd4abc062"
ANSWERS = {
    "/jobs/overview": {"jobs": [
        {"jid": "f1", "name": "beacons", "state": "FINISHED", "start-time": 1796375115177},
        {"jid": JOB, "name": "ripples", "state": "RUNNING", "start-time": 1796375000000},
    ]},
    f"/jobs/{JOB}": {
        "vertices": [{"id": "src"}, {"id": "agg"}],
        "plan": {"nodes": [{"id": "src"}, {"id": "agg", "inputs": [{"id": "src"}]}]},
    },
    f"/jobs/{JOB}/vertices/src/metrics": [{"id": "0.numRecordsOutPerSecond"}],
    f"/jobs/{JOB}/vertices/src/subtasks/metrics?get=numRecordsOutPerSecond&agg=sum": [
        {"id": "numRecordsOutPerSecond", "sum": 212.5}
    ],
    f"/jobs/{JOB}/vertices/agg/metrics": [
        {"id": "0.OverAggregate[4].numLateRecordsDropped"},
        {"id": "1.OverAggregate[4].numLateRecordsDropped"},
        {"id": "0.numRecordsInPerSecond"},
    ],
    f"/jobs/{JOB}/vertices/agg/metrics?get=0.OverAggregate%5B4%5D.numLateRecordsDropped,"
    "1.OverAggregate%5B4%5D.numLateRecordsDropped": [
        {"id": "0.OverAggregate[4].numLateRecordsDropped", "value": "3"},
        {"id": "1.OverAggregate[4].numLateRecordsDropped", "value": "4.0"},
    ],
}  # fmt: skip


def test_running_jobs_come_first_with_their_late_drops_and_source_rate():
    asked: list[str] = []

    def get(path: str) -> object:
        asked.append(path)
        return ANSWERS[path]

    assert read_jobs(get) == [
        JobInfo(JOB, "ripples", "RUNNING", 1796375000000, 7, 212.5),
        JobInfo("f1", "beacons", "FINISHED", 1796375115177, None, None),
    ]
    assert not any(path.startswith("/jobs/f1") for path in asked)  # no metrics when finished
