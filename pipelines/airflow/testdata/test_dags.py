"""Tests of the dpcetl DAGs' task callables with a stand-in for Airflow (see _airflow_fake),
running the real dpcetl binary against a standalone DPC sandbox. Driven by dag_test.go, which
builds the binaries, starts the sandbox and sets:

    DPCETL_TEST_BIN       the dpcetl binary
    DPCETL_TEST_SANDBOX   the sandbox's --credentials-dir (base_url, key_id, client_token, private.pem, groups.json)
    DPCETL_TEST_AIRFLOW   "2" or "3": which stand-in layout is on PYTHONPATH
"""

import glob
import importlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import unittest

import _airflow_fake
from airflow.exceptions import AirflowException, AirflowFailException

SANDBOX = os.environ["DPCETL_TEST_SANDBOX"]
BIN = os.environ["DPCETL_TEST_BIN"]


def read(name):
    with open(os.path.join(SANDBOX, name)) as f:
        return f.read().strip()


GROUPS = [g["GroupID"] for g in json.loads(read("groups.json"))]


class Capture(logging.Handler):
    """Records each log line with the time it arrived."""

    def __init__(self):
        super().__init__()
        self.lines = []
        self.first = threading.Event()

    def emit(self, record):
        msg = record.getMessage()
        self.lines.append((time.monotonic(), msg))
        if msg.startswith("{"):
            self.first.set()


class DagTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for k in list(_airflow_fake.RECORDED):
            _airflow_fake.RECORDED[k].clear()
        cls.lake = tempfile.mkdtemp(prefix="dpcetl-lake-")  # the shared destination ("the bucket")
        os.environ["DPCETL_DESTINATION"] = cls.lake
        cls.op_mod = importlib.import_module("dpcetl_operator")
        cls.dag = importlib.import_module("dpcetl_dag")
        cls.stages = importlib.import_module("dpcetl_stages_dag")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.lake, ignore_errors=True)

    def env(self, **extra):
        e = {
            "DPCETL_API": read("base_url"),
            "DPCETL_CLIENT_TOKEN_FILE": os.path.join(SANDBOX, "client_token"),
            "DPCETL_PRIVATE_KEY_FILE": os.path.join(SANDBOX, "private.pem"),
            "DPCETL_KEY_ID": read("key_id"),
            "DPCETL_DESTINATION": self.lake,
            "DPCETL_POLL_INTERVAL": "100ms",
            "DPCETL_MAX_ATTEMPTS": "2",
        }
        e.update(extra)
        return e

    def operator(self, group, task_id="run", **kw):
        op = self.op_mod.DpcetlOperator(task_id=task_id, group=group, binary=BIN, env=kw.pop("env", self.env()), **kw)
        cap = Capture()
        op.log.addHandler(cap)
        op.log.setLevel(logging.INFO)
        op.log.propagate = False
        return op, cap

    def in_own_tmpdir(self, fn):
        """Runs fn with TMPDIR set to a fresh directory (one worker's disk); returns its result and the dir."""
        d = tempfile.mkdtemp(prefix="dpcetl-worker-")
        old = os.environ.get("TMPDIR")
        os.environ["TMPDIR"] = d
        tempfile.tempdir = None
        try:
            return fn(), d
        finally:
            if old is None:
                del os.environ["TMPDIR"]
            else:
                os.environ["TMPDIR"] = old
            tempfile.tempdir = None

    def test_imports_use_the_expected_airflow_layout(self):
        want = "airflow.sdk" if os.environ["DPCETL_TEST_AIRFLOW"] == "3" else "airflow.models"
        self.assertEqual(self.op_mod.BaseOperator.__module__, "_airflow_fake")
        import sys
        self.assertIn(want, sys.modules)
        if want == "airflow.models":
            self.assertNotIn("airflow.sdk", sys.modules)

    def test_default_dag_maps_one_run_per_group_with_pool_timeout_and_assets(self):
        mapped = [m for m in _airflow_fake.RECORDED["mapped"] if m["partial"]["task_id"] == "run"]
        self.assertEqual(len(mapped), 1, mapped)
        p = mapped[0]["partial"]
        self.assertIs(mapped[0]["operator"], self.op_mod.DpcetlOperator)
        self.assertEqual(p["command"], ["run"])
        self.assertEqual(p["pool"], "dpc_api")
        self.assertEqual(p["execution_timeout"].total_seconds(), 6 * 3600)
        uris = sorted(a.uri for a in p["outlets"])
        self.assertEqual(uris, sorted("file://" + self.lake + "/" + t for t in self.op_mod.TABLES))
        self.assertEqual(list(mapped[0]["expand"]), ["group"])
        dags = [d["dag_id"] for d in _airflow_fake.RECORDED["dags"]]
        self.assertIn("dpcetl", dags)
        self.assertIn("dpcetl_stages", dags)

    def test_two_mapped_groups_end_to_end_each_in_its_own_temp_dir(self):
        self.assertGreaterEqual(len(GROUPS), 2)
        workers = []
        for g in GROUPS[:2]:
            op, cap = self.operator(g)
            started = time.monotonic()
            summary, tmp = self.in_own_tmpdir(lambda: op.execute({}))
            ended = time.monotonic()
            workers.append(tmp)
            self.assertEqual(summary["status"], "ok", summary)
            self.assertEqual(summary["exit_code"], 0)
            self.assertGreater(summary["rows"]["eob"], 0)
            parts = glob.glob(os.path.join(self.lake, "eob", "export_date=*", "group_id=" + g, "*.parquet"))
            self.assertTrue(parts, "no eob Parquet for group " + g)
            # The task's state directory was in this worker's temp dir and is gone.
            self.assertEqual(os.listdir(tmp), [], "task left files in its temp dir")
            # dpcetl's JSON log lines reached the task log while the child was still running.
            json_lines = [(t, m) for t, m in cap.lines if m.startswith("{")]
            self.assertGreater(len(json_lines), 3)
            for _, m in json_lines:
                json.loads(m)
            self.assertLess(json_lines[0][0], ended - 0.3,
                            "first log line arrived only at the end: output is not streamed")
            self.assertGreater(json_lines[0][0], started)
        self.assertNotEqual(workers[0], workers[1])
        # A later run of group 0 on yet another worker goes on from the watermark in the destination.
        op, _ = self.operator(GROUPS[0])
        summary, _ = self.in_own_tmpdir(lambda: op.execute({}))
        self.assertEqual(summary["status"], "ok", summary)
        g0 = next(g for g in summary["groups"] if g["group"] == GROUPS[0])
        self.assertTrue(g0.get("since"), f"second run did not start from the watermark in the destination: {g0}")

    def test_exit_codes_map_to_retry_or_fail(self):
        cases = [
            # unknown group: DPC rejects the request itself -> 6, fail without retry
            ("rejected", "00000000-0000-0000-0000-000000000000", {}, AirflowFailException, "exit 6 (rejected)"),
            # destination is a file: config -> 3, fail without retry
            ("config", GROUPS[0], {"DPCETL_DESTINATION": os.path.join(SANDBOX, "key_id")}, AirflowFailException, "exit 3 (config)"),
            # nothing listens on the API port: network -> 10, Airflow retries
            ("network", GROUPS[0], {"DPCETL_API": "http://127.0.0.1:9/api/v1", "DPCETL_MAX_ATTEMPTS": "1"}, AirflowException, "exit 10 (retryable)"),
        ]
        for name, group, env, exc, text in cases:
            with self.subTest(name):
                op, _ = self.operator(group, env=self.env(**env))
                with self.assertRaises(exc) as cm:
                    self.in_own_tmpdir(lambda: op.execute({}))
                self.assertIn(text, str(cm.exception))
                if exc is AirflowException:
                    self.assertNotIsInstance(cm.exception, AirflowFailException)

    def test_persistent_state_dir_is_used_and_kept(self):
        state = tempfile.mkdtemp(prefix="dpcetl-volume-")
        lake = tempfile.mkdtemp(prefix="dpcetl-lake2-")  # its own destination: other tests' watermarks stay put
        try:
            op, _ = self.operator(GROUPS[1], state_dir=state, env=self.env(DPCETL_DESTINATION=lake))
            summary, tmp = self.in_own_tmpdir(lambda: op.execute({}))
            self.assertEqual(summary["status"], "ok", summary)
            self.assertTrue(os.path.exists(os.path.join(state, "jobs", "export-" + GROUPS[1] + ".json")) or
                            os.listdir(state), "nothing written to the persistent state dir")
            self.assertEqual(os.listdir(tmp), [])
        finally:
            shutil.rmtree(state, ignore_errors=True)
            shutil.rmtree(lake, ignore_errors=True)

    def test_on_kill_terminates_the_child(self):
        op, cap = self.operator(GROUPS[1], env=self.env(DPCETL_POLL_INTERVAL="5s"))
        result = {}

        def run():
            try:
                result["value"] = op.execute({})
            except Exception as e:  # noqa: BLE001 - the test inspects it
                result["error"] = e

        t = threading.Thread(target=run)
        t.start()
        self.assertTrue(cap.first.wait(60), "dpcetl never logged")
        child = op._child._proc
        self.assertIsNotNone(child)
        killed = time.monotonic()
        op.on_kill()
        t.join(60)
        self.assertFalse(t.is_alive())
        self.assertLess(time.monotonic() - killed, 20)
        self.assertIsNotNone(child.poll(), "child still running after on_kill")
        err = result.get("error")
        self.assertIsInstance(err, AirflowException)
        self.assertNotIsInstance(err, AirflowFailException)
        self.assertIn("130 (interrupted)", str(err))

    def test_stage_split_dag_hands_the_job_from_worker_to_worker(self):
        g = GROUPS[2] if len(GROUPS) > 2 else GROUPS[0]
        start, _ = self.operator(g, task_id="export_start", command=["export", "start"], return_job_state=True)
        started, _ = self.in_own_tmpdir(lambda: start.execute({}))
        self.assertTrue(started["job_state"]["job_url"], started)
        sensor = self.stages.DpcetlExportStatusSensor(task_id="export_status", group=g, job_state=started,
                                                      binary=BIN, env=self.env())
        deadline = time.monotonic() + 120
        pokes = 0
        while True:
            pokes += 1
            rv, _ = self.in_own_tmpdir(lambda: sensor.poke({}))
            if rv.is_done:
                break
            self.assertLess(time.monotonic(), deadline, "export never completed")
            time.sleep(0.3)
        self.assertIsNotNone(rv.xcom_value["job_state"].get("manifest"), rv.xcom_value)
        run, _ = self.operator(g, job_state=rv.xcom_value)
        summary, _ = self.in_own_tmpdir(lambda: run.execute({}))
        self.assertEqual(summary["status"], "ok", summary)
        job_id = started["summary"]["groups"][0]["job_id"]
        self.assertTrue(job_id)
        self.assertEqual(summary["groups"][0]["job_id"], job_id,
                         "run started a new job instead of rejoining the one export start began")
        # the stage DAG wires export_start -> export_status (reschedule) -> run
        ops = {o.task_id: o for o in _airflow_fake.RECORDED["operators"] if getattr(o, "group", None) == "{{ mapped }}"}
        self.assertEqual(ops["export_status"].mode, "reschedule")
        self.assertEqual(ops["run"].pool, "dpc_api")


if __name__ == "__main__":
    unittest.main(verbosity=2)
