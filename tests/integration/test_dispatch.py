"""Dispatch through the real binary: the handler time budget warning, a
console run with one worker, and a refused plugin not stopping the others.
Cross-chat parallelism needs several chats, so it is tested in C
(tests/unit/test_dispatch.c) against the same worker pool."""
from conftest import config_with_slow, run_console


def test_handler_over_budget_is_warned_once(workdir):
    config = config_with_slow(workdir, bot={"handler_budget_ms": 200})
    result = run_console(config, "/sleep 700\n/ping\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["slept 700", "pong"]
    warnings = [line for line in result.stderr.splitlines()
                if "'slow'" in line and "/sleep" in line and "budget" in line]
    assert len(warnings) == 1, result.stderr


def test_handler_within_budget_is_not_warned(workdir):
    config = config_with_slow(workdir, bot={"handler_budget_ms": 5000})
    result = run_console(config, "/sleep 10\n")
    assert result.stdout.splitlines() == ["slept 10"]
    assert "still running after" not in result.stderr


def test_one_worker_keeps_order(workdir):
    config = config_with_slow(workdir, bot={"workers": 1})
    lines = "".join(f"/say {n}\n" if n % 2 else f"/echo {n}\n" for n in range(50))
    result = run_console(config, lines)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(n) for n in range(50)]


def test_refused_plugin_does_not_stop_the_others(workdir):
    config = config_with_slow(workdir, enable="hello, missing_one, slow")
    result = run_console(config, "/ping\n/say still here\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["pong", "still here"]
    assert "missing_one" in result.stderr


def test_plugin_commands_and_free_text_in_one_session(workdir):
    config = config_with_slow(workdir)
    result = run_console(config, "slow? plain\n/say@SomeBot nope\n/nosuch\n/say yes\n")
    assert result.stdout.splitlines() == [
        "heard private=1 mentions=0 reply=0 command=null",
        "Unknown command /nosuch. Send /help for the list.",
        "yes",
    ]
