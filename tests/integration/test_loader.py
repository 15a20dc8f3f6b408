"""Plugin loader, end to end: the real binary dlopens real .so files from a
private plugin dir. Each broken plugin of tests/plugins must be refused with
its own log line (file, expected, found, what to do) while hello keeps working."""
import os
import pathlib
import re
import shutil

import pytest

import conftest
from conftest import built_plugin_dir, run_console, run_jarvis, write_config

CORPUS = ["broken_no_descriptor", "hello", "broken_magic", "broken_major", "broken_minor",
          "broken_small_struct", "broken_null_init", "broken_init_fails", "broken_undefined",
          "dup_name", "dup_command", "missing"]


@pytest.fixture
def plugin_dir(workdir):
    """A 0700 directory holding hello.so and every test plugin, mode 0755."""
    directory = workdir / "plugins"
    directory.mkdir(mode=0o700)
    os.chmod(directory, 0o700)
    sources = [pathlib.Path(built_plugin_dir()) / "hello.so"]
    sources += sorted(pathlib.Path(conftest.test_plugin_dir()).glob("*.so"))
    for source in sources:
        target = directory / source.name
        shutil.copyfile(source, target)
        os.chmod(target, 0o755)
    return directory


def config_for(workdir, plugin_dir, enable, extra=None):
    sections = {"plugins": {"dir": str(plugin_dir), "enable": ", ".join(enable)}}
    sections.update(extra or {})
    return write_config(workdir, sections)


def log_line(stderr, pattern):
    """The one log line matching pattern (a regex); fails when absent or repeated."""
    lines = [line for line in stderr.splitlines() if re.search(pattern, line)]
    assert len(lines) == 1, f"expected one line matching {pattern!r}, got {lines}\n{stderr}"
    return lines[0]


def test_broken_corpus_each_refused_with_its_reason_and_hello_still_answers(workdir, plugin_dir):
    config = config_for(workdir, plugin_dir, CORPUS)
    result = run_console(config, "/ping\n/dup_alive\n/init_fails_cmd\n")
    assert result.returncode == 0, result.stderr
    replies = result.stdout.splitlines()
    assert replies[0] == "pong"
    assert replies[1] == "dup_command alive"
    assert "should not be loaded" not in result.stdout
    err = result.stderr
    d = re.escape(str(plugin_dir))
    log_line(err, rf"{d}/broken_no_descriptor\.so: refused: not a jarvis plugin: expected the "
                  r"symbol jv_plugin_descriptor, found none")
    log_line(err, rf"{d}/broken_magic\.so: refused: wrong magic: expected 0x4C50564A, found "
                  r"0xDEADBEEF; rebuild against include/jarvis/plugin\.h")
    log_line(err, rf"{d}/broken_major\.so: refused: ABI major: expected 1, found 2; rebuild "
                  r"against include/jarvis/plugin\.h")
    log_line(err, rf"{d}/broken_minor\.so: refused: ABI minor: expected at most 3, found 4")
    log_line(err, rf"{d}/broken_small_struct\.so: refused: descriptor struct_size: expected at "
                  r"least 64, found 16; rebuild")
    log_line(err, rf"{d}/broken_null_init\.so: refused: descriptor init: expected a function, "
                  r"found NULL")
    log_line(err, rf"{d}/broken_init_fails\.so: refused: init failed: .*missing "
                  r"\[broken_init_fails\] api_key")
    log_line(err, rf"{d}/broken_undefined\.so: refused: dlopen failed: .*undefined symbol: "
                  r"jarvis_symbol_that_does_not_exist; check its dependencies with ldd")
    log_line(err, rf"{d}/dup_name\.so: refused: descriptor name: expected 'dup_name' \(the file "
                  r"name\), found 'hello'; fix the name")
    log_line(err, r"plugin 'dup_command': command /ping is already registered by plugin 'hello'")
    log_line(err, rf"{d}/missing\.so: refused: no such file")
    summary = log_line(err, r"plugins: loaded \d+")
    assert "plugins: loaded 2 (hello, dup_command), refused 10 (" in summary
    assert "broken_magic: wrong magic" in summary
    assert "missing: file not found" in summary


def test_failed_init_is_undone_and_each_destructor_runs_once(workdir, plugin_dir):
    config = config_for(workdir, plugin_dir, ["hello", "broken_init_fails"])
    result = run_console(config, "/init_fails_cmd\n/help\n/ping\n")
    assert result.returncode == 0, result.stderr
    log_line(result.stderr, r"destructor ran for command")
    log_line(result.stderr, r"destructor ran for job")
    assert "should not be loaded" not in result.stdout
    help_lines = [line for line in result.stdout.splitlines() if line.startswith("/")]
    assert all(not line.startswith("/init_fails_cmd") for line in help_lines)
    assert result.stdout.splitlines()[-1] == "pong"


def test_load_order_decides_who_owns_a_command(workdir, plugin_dir):
    # dup_command first: it takes /ping, so hello's init fails and is undone.
    config = config_for(workdir, plugin_dir, ["dup_command", "hello"])
    result = run_console(config, "/ping\n/echo hi\n")
    assert result.stdout.splitlines()[0] == "stolen pong"
    assert "hi" not in result.stdout.splitlines()[1:]
    log_line(result.stderr, r"plugin 'hello': command /ping is already registered by plugin "
                            r"'dup_command'")
    log_line(result.stderr, r"hello\.so: refused: init failed: .*name already taken")


def test_help_lists_builtins_then_commands_sorted(workdir, plugin_dir):
    config = config_for(workdir, plugin_dir, ["hello", "dup_command"])
    result = run_console(config, "/help\n")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("/help - ")
    assert lines[1].startswith("/start - ")
    # the console adds how to press buttons after the commands
    names = [line.split(" ")[0] for line in lines[2:] if line.startswith("/")]
    assert names == ["/dup_alive", "/echo", "/ping"]
    assert "/echo - repeat the text" in lines


def test_echo_replies_exactly_the_text_and_usage_when_empty(workdir, plugin_dir):
    config = config_for(workdir, plugin_dir, ["hello"])
    result = run_console(config, "/echo hello  big world\n/echo\n")
    assert result.stdout.splitlines() == ["hello  big world", "usage: /echo <text>"]


def test_check_exits_zero_when_all_load(workdir, plugin_dir):
    config = config_for(workdir, plugin_dir, ["hello", "dup_command"])
    result = run_jarvis(["check", "-c", str(config)])
    assert result.returncode == 0, result.stderr
    assert "refused" in result.stderr and "refused 0" in result.stderr


def test_check_exits_non_zero_when_any_refused(workdir, plugin_dir):
    config = config_for(workdir, plugin_dir, ["hello", "broken_major"])
    result = run_jarvis(["check", "-c", str(config)])
    assert result.returncode != 0
    log_line(result.stderr, r"broken_major\.so: refused: ABI major")


@pytest.mark.parametrize("mode", [0o757, 0o775, 0o666])
def test_group_or_world_writable_plugin_is_refused(workdir, plugin_dir, mode):
    so = plugin_dir / "hello.so"
    os.chmod(so, mode)
    config = config_for(workdir, plugin_dir, ["hello", "dup_command"])
    result = run_console(config, "/ping\n/dup_alive\n")
    line = log_line(result.stderr, r"hello\.so: refused: file is group- or world-writable")
    assert f"(mode {mode:04o})" in line
    assert f"chmod go-w {so}" in line
    # dup_command took /ping once hello was gone; it must not crash anything
    assert result.stdout.splitlines() == ["stolen pong", "dup_command alive"]
    assert run_jarvis(["check", "-c", str(config)]).returncode != 0


def test_world_writable_plugin_dir_refuses_every_plugin(workdir, plugin_dir):
    os.chmod(plugin_dir, 0o777)
    config = config_for(workdir, plugin_dir, ["hello", "dup_command"])
    result = run_console(config, "/ping\n")
    for name in ("hello", "dup_command"):
        line = log_line(result.stderr, rf"{name}\.so: refused: plugin directory")
        assert "group- or world-writable (mode 0777)" in line
        assert f"chmod go-w {plugin_dir}" in line
    assert "pong" not in result.stdout
    assert run_jarvis(["check", "-c", str(config)]).returncode != 0


def test_symbolic_link_is_refused(workdir, plugin_dir):
    os.symlink(plugin_dir / "hello.so", plugin_dir / "linked.so")
    config = config_for(workdir, plugin_dir, ["linked"])
    result = run_jarvis(["check", "-c", str(config)])
    assert result.returncode != 0
    log_line(result.stderr, r"linked\.so: refused: expected a regular file, found a symbolic link")


def test_directory_in_place_of_a_plugin_is_refused(workdir, plugin_dir):
    (plugin_dir / "folder.so").mkdir()
    config = config_for(workdir, plugin_dir, ["folder", "hello"])
    result = run_console(config, "/ping\n")
    log_line(result.stderr, r"folder\.so: refused: expected a regular file, found a directory")
    assert result.stdout.splitlines() == ["pong"]


def test_garbage_file_fails_dlopen_with_the_ldd_hint(workdir, plugin_dir):
    junk = plugin_dir / "junk.so"
    junk.write_bytes(b"this is not an ELF file\n" * 10)
    os.chmod(junk, 0o644)
    config = config_for(workdir, plugin_dir, ["junk", "hello"])
    result = run_console(config, "/ping\n")
    line = log_line(result.stderr, r"junk\.so: refused: dlopen failed")
    assert f"check its dependencies with ldd {junk}" in line
    assert "/proc/self/fd" not in line
    assert result.stdout.splitlines() == ["pong"]


def test_unparsable_plugin_setting_is_logged_with_file_line_and_key(workdir, plugin_dir):
    config = config_for(workdir, plugin_dir, ["hello"], {"hello": {"tick_interval_ms": "soon"}})
    result = run_console(config, "/ping\n")
    assert result.stdout.splitlines() == ["pong"]
    line_number = next(number for number, text in
                       enumerate(config.read_text().splitlines(), start=1)
                       if text.startswith("tick_interval_ms"))
    line = log_line(result.stderr, r"\[hello\] tick_interval_ms: expected an integer")
    assert f"plugins.ini:{line_number}:" in line
    assert "soon" not in line  # values may be secrets: never logged


def test_descriptor_is_checked_in_the_elf_file_before_any_constructor_runs(workdir, plugin_dir):
    """dlopen runs a library's constructors before its descriptor can be
    looked at in memory; each ctor_* plugin leaves a marker file from its
    constructor. A descriptor refused from the ELF file must leave none."""
    markers = workdir / "markers"
    markers.mkdir()
    enable = ["hello", "ctor_wrong_major", "ctor_wrong_magic", "ctor_wrong_name",
              "ctor_no_descriptor", "ctor_loaded"]
    result = run_console(config_for(workdir, plugin_dir, enable), "/ping\n",
                         env={"JARVIS_TEST_MARKER_DIR": str(markers)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "pong"
    # the control: a good plugin's constructor does run, at dlopen
    assert sorted(path.name for path in markers.iterdir()) == ["ctor_loaded.ran"]
    err = result.stderr
    d = re.escape(str(plugin_dir))
    log_line(err, rf"{d}/ctor_wrong_major\.so: refused: ABI major: expected 1, found 2")
    log_line(err, rf"{d}/ctor_wrong_magic\.so: refused: wrong magic: expected 0x4C50564A, "
                  r"found 0x0BADF00D")
    log_line(err, rf"{d}/ctor_wrong_name\.so: refused: descriptor name: expected "
                  r"'ctor_wrong_name' \(the file name\), found 'hello'")
    log_line(err, rf"{d}/ctor_no_descriptor\.so: refused: not a jarvis plugin")
    summary = log_line(err, r"plugins: loaded \d+")
    assert "plugins: loaded 2 (hello, ctor_loaded), refused 4 (" in summary


def test_broken_corpus_is_refused_without_being_dlopened(workdir, plugin_dir):
    """The descriptor-level refusals of the broken corpus come from the ELF
    file: the dynamic loader (LD_DEBUG=files lists every object dlopen maps)
    maps hello alone."""
    enable = ["broken_magic", "broken_major", "broken_minor", "broken_small_struct",
              "broken_no_descriptor", "dup_name"]
    result = run_console(config_for(workdir, plugin_dir, enable + ["hello"]), "/ping\n",
                         env={"LD_DEBUG": "files"})
    assert result.returncode == 0, result.stderr
    for name in enable:
        log_line(result.stderr, rf"/{name}\.so: refused: ")
    dlopened = re.findall(r"file=(/proc/self/fd/\d+) \[0\];\s+dynamically loaded by",
                          result.stderr)
    assert len(dlopened) == 1, dlopened  # hello.so


def test_struct_size_larger_than_the_symbol_is_refused(workdir, plugin_dir):
    result = run_console(config_for(workdir, plugin_dir, ["hello", "broken_big_struct"]),
                         "/ping\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "pong"
    log_line(result.stderr, r"broken_big_struct\.so: refused: descriptor struct_size says 128 "
                            r"bytes, found a symbol of 64 bytes")
