"""Console transport end to end: the real binary reads lines on stdin and
writes one reply per line on stdout, with the built hello plugin and the
slow test plugin loaded from a private plugin dir."""
import subprocess

from conftest import (assert_no_sanitizer_report, config_with_slow, jarvis_binary, run_console,
                      write_config)

UNKNOWN = "Unknown command /nosuch. Send /help for the list."


def replies(result):
    return result.stdout.splitlines()


def test_help_lists_every_command(workdir):
    result = run_console(write_config(workdir, {}), "/help\n")
    assert result.returncode == 0, result.stderr
    lines = replies(result)
    for command in ("/ping", "/echo", "/help", "/start"):
        assert any(line.startswith(command + " - ") for line in lines), lines


def test_help_for_one_command_shows_its_usage(workdir):
    result = run_console(write_config(workdir, {}), "/help echo\n/help /PING\n/help nosuch\n")
    assert result.returncode == 0, result.stderr
    assert replies(result) == ["/echo - repeat the text", "Usage: /echo <text>",
                               "/ping - check that the bot is alive", "Usage: /ping",
                               "No command /nosuch. Send /help for the list."]


def test_ping_echo_and_unknown_command(workdir):
    result = run_console(write_config(workdir, {}), "/ping\n/echo a  b \n/nosuch x\n/PING\n")
    assert result.returncode == 0, result.stderr
    # args are trimmed at both ends, inner spacing is kept
    assert replies(result) == ["pong", "a  b", UNKNOWN, "pong"]


def test_start_greets_and_points_to_help(workdir):
    result = run_console(write_config(workdir, {}), "/start\n")
    assert replies(result) == ["Hello, I am jarvis. Send /help for the list of commands."]


def test_command_for_another_bot_is_ignored(workdir):
    # the console has no bot username, so any /cmd@name is someone else's
    result = run_console(write_config(workdir, {}), "/ping@OtherBot\n/ping\n")
    assert result.returncode == 0, result.stderr
    assert replies(result) == ["pong"]


def test_two_hundred_lines_give_two_hundred_replies_in_order(workdir):
    lines = "".join(f"/echo line {n}\n" for n in range(200))
    result = run_console(write_config(workdir, {"bot": {"workers": 4}}), lines)
    assert result.returncode == 0, result.stderr
    assert replies(result) == [f"line {n}" for n in range(200)]


def test_blank_lines_crlf_and_missing_final_newline(workdir):
    result = run_console(write_config(workdir, {}), "\n\r\n   \n/echo x\r\n/ping")
    assert result.returncode == 0, result.stderr
    assert replies(result) == ["x", "pong"]


def test_empty_input_exits_cleanly(workdir):
    result = run_console(write_config(workdir, {}), "")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


def test_very_long_line(workdir):
    text = "x" * 100000
    result = run_console(write_config(workdir, {}), f"/echo {text}\n/ping\n")
    assert result.returncode == 0, result.stderr
    lines = replies(result)
    assert lines[-1] == "pong"
    # a transport may split long replies; nothing may be lost
    assert "".join(lines[:-1]) == text


def test_invalid_utf8_line_is_reported_and_skipped(workdir):
    config = write_config(workdir, {})
    result = subprocess.run([jarvis_binary(), "-c", str(config)], input=b"\xff\xfe/ping\n/ping\n",
                            capture_output=True, timeout=60)
    stderr = result.stderr.decode("utf-8", "replace")
    assert_no_sanitizer_report(stderr)
    assert result.returncode == 0, stderr
    assert result.stdout == b"pong\n"
    assert "stdin:1: not valid UTF-8" in stderr


def test_console_user_is_admin_and_private(workdir):
    result = run_console(config_with_slow(workdir), "/slowadmin\nslow? anyone\n")
    assert result.returncode == 0, result.stderr
    assert replies(result) == ["admin ok", "heard private=1 mentions=0 reply=0 command=null"]


def test_argv_split(workdir):
    result = run_console(config_with_slow(workdir), "/argv  one   two\tthree \n/argv\n")
    assert replies(result) == ["argc=3 [one][two][three]", "argc=0 "]
