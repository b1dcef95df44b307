"""engine.runs without training: event writing and throttling, torn lines, following, run status."""
import io
import json

from engine.runs import EventFollower, EventWriter, RunLock, read_events, run_state


def test_writer_throttles_progress_but_keeps_every_other_event(tmp_path):
    buf = io.StringIO()
    w = EventWriter(buf, min_interval_s=60)
    for b in range(1, 6):
        w.write({"type": "batch", "epoch": 1, "batch": b, "batches": 5, "loss": float("nan")})
    w.write({"type": "epoch", "epoch": 1, "val_mAP": float("nan")})
    got = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert [(e["type"], e.get("batch")) for e in got] == [("batch", 1), ("batch", 5), ("epoch", None)]
    assert got[0]["loss"] is None and got[-1]["val_mAP"] is None    # strict JSON: NaN as null


def test_torn_lines_and_following(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"type": "start", "pid": 1}\n{"type": "bat')
    f = EventFollower(path)
    assert [e["type"] for e in f.poll()] == ["start"] and read_events(path) == [{"type": "start", "pid": 1}]
    with open(path, "a") as out:
        out.write('ch", "batch": 1}\nnot json\n{"type": "epoch", "epoch": 1}\n')
    assert [e["type"] for e in f.poll()] == ["batch", "epoch"] and f.poll() == []


def test_run_status_from_events_and_lock(tmp_path):
    run = tmp_path / "run"
    assert run_state(run).status == "new"
    lock = RunLock(run)
    assert lock.acquire()
    assert run_state(run).status == "running"              # preparing data, no start event yet
    w = EventWriter(run / "events.jsonl")
    w.write({"type": "start", "pid": 999999, "config": {"method": "mmnet"}})
    w.write({"type": "epoch", "epoch": 1, "val_mAP": 0.5})
    assert run_state(run).status == "running" and run_state(run).method == "mmnet"
    assert not RunLock(run).acquire(wait_s=0.2)             # a second trainer is refused
    lock.release()
    (run / "checkpoint.pt").write_bytes(b"x")
    st = run_state(run)
    assert st.status == "interrupted" and st.resumable and [h["epoch"] for h in st.history] == [1]
    w.write({"type": "failed", "reason": "disk full", "error_type": "OSError"})
    st = run_state(run)
    assert st.status == "failed" and st.error == "disk full"
    w.close()
