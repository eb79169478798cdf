"""Runs executed in process by `wxpipeline run`/`nightly` capture stdout/stderr for the UI and show
it on the terminal, without tail processes (compute_logs.py)."""

import subprocess
import sys
import textwrap


def test_a_runs_output_is_captured_and_reaches_the_terminal(tmp_path):
    """In a subprocess: the patch is process-wide and the terminal is a real file descriptor."""
    script = textwrap.dedent(f"""
        import sys
        import dagster as dg
        from wxpipeline.compute_logs import capture_without_tail_processes

        capture_without_tail_processes()
        import subprocess
        started = []
        popen = subprocess.Popen
        subprocess.Popen = lambda args, *a, **k: started.append(" ".join(map(str, args))) or popen(args, *a, **k)

        @dg.asset
        def noisy() -> int:
            print("printed by the step")
            print("warned by the step", file=sys.stderr)
            return 1

        with dg.DagsterInstance.from_config({str(tmp_path)!r}) as instance:
            result = dg.materialize([noisy], instance=instance)
            assert result.success
            manager = instance.compute_log_manager
            captured = [e for e in instance.all_logs(result.run_id)
                        if e.dagster_event and e.dagster_event.event_type_value == "LOGS_CAPTURED"]
            file_key = captured[0].dagster_event.event_specific_data.file_key
            data = manager.get_log_data(manager.build_log_key_for_run(result.run_id, file_key))
            print("UI-STDOUT:", data.stdout.decode().strip())
            print("UI-STDERR:", data.stderr.decode().strip())
            print("PROCESSES STARTED:", started)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "UI-STDOUT: printed by the step" in done.stdout  # the UI's captured stdout
    assert "UI-STDERR:" in done.stdout and "warned by the step" in done.stdout.split("UI-STDERR:")[1]
    # mirrored to the terminal once, when the capture ended
    assert done.stdout.count("printed by the step") == 2, done.stdout
    assert done.stderr.count("warned by the step") == 1, done.stderr
    started = done.stdout.split("PROCESSES STARTED:")[1]
    # Dagster's own mirroring starts a tail and a watcher per stream
    assert "tail" not in started and "watch_orphans" not in started, started
