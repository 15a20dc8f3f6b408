"""The command line and the config file through the real binary: getopt_long
options, where the config is looked up, relative paths following the config
file, `check` and `check -q`/`-v`, every config error at once, did-you-mean
and the unused-section warning."""
import os
import shutil

from conftest import built_plugin_dir, run_jarvis

ALL_PLUGINS = "hello, sentiment, grok_weighting, dexter_finance"


def bot_directory(root):
    """/srv/bot-like directory: its own plugins dir, a relative config."""
    root.mkdir(exist_ok=True)
    plugins = root / "plugins"
    plugins.mkdir(mode=0o755)
    for name in ("hello", "sentiment", "grok_weighting", "dexter_finance"):
        shutil.copy(os.path.join(built_plugin_dir(), f"{name}.so"), plugins / f"{name}.so")
    config = root / "plugins.ini"
    config.write_text("[bot]\nstate_dir = state\nlog_file = logs.txt\n"
                      "[lock]\npath = run/jarvis.lock\n"
                      f"[plugins]\ndir = plugins\nenable = {ALL_PLUGINS}\n")
    return config


def test_relative_paths_follow_the_config_file_not_the_cwd(workdir):
    config = bot_directory(workdir / "srv-bot")
    elsewhere = workdir / "elsewhere"
    elsewhere.mkdir()
    result = run_jarvis(["check", "-c", str(config)], cwd=str(elsewhere))
    assert result.returncode == 0, result.stderr
    assert "4 of 4 enabled plugin(s) loaded, 0 refused: ok" in result.stdout
    root = workdir / "srv-bot"
    assert f"config: {config}\n" in result.stdout
    assert f"plugin dirs: {root}/plugins\n" in result.stdout
    assert f"state_dir: {root}/state\n" in result.stdout
    assert f"lock: {root}/run/jarvis.lock\n" in result.stdout
    assert f"log: {root}/logs.txt\n" in result.stdout
    result = run_jarvis(["-c", str(config)], "/ping\n", cwd=str(elsewhere))
    assert result.stdout == "pong\n", result.stderr
    assert (root / "state" / "jarvis.db").exists()
    assert (root / "logs.txt").exists()
    assert oct((root / "run").stat().st_mode & 0o777) == "0o700"
    assert list(elsewhere.iterdir()) == []


def test_config_lookup_order(workdir):
    config = bot_directory(workdir / "bot")
    other = workdir / "other"
    other.mkdir()
    (other / "plugins.ini").write_text(f"[plugins]\ndir = {built_plugin_dir()}\n"
                                       "enable = hello\n[lock]\npath = l/jarvis.lock\n")
    # ./plugins.ini when neither -c nor $JARVIS_CONFIG
    result = run_jarvis(["check"], cwd=str(other))
    assert f"config: plugins.ini\n" in result.stdout
    assert "1 of 1 enabled plugin(s)" in result.stdout
    # $JARVIS_CONFIG beats ./plugins.ini
    result = run_jarvis(["check"], cwd=str(other), env={"JARVIS_CONFIG": str(config)})
    assert f"config: {config}\n" in result.stdout
    assert "4 of 4 enabled plugin(s)" in result.stdout
    # -c beats both
    result = run_jarvis(["check", f"--config={other}/plugins.ini"], cwd=str(workdir),
                        env={"JARVIS_CONFIG": str(config)})
    assert "1 of 1 enabled plugin(s)" in result.stdout
    # none of them: the compiled-in system path, named in the error
    empty = workdir / "empty"
    empty.mkdir()
    env = {"JARVIS_CONFIG": ""}
    result = run_jarvis(["check"], cwd=str(empty), env=env)
    system = "/usr/local/etc/jarvis/plugins.ini"  # the build's default SYSCONFDIR
    if not os.path.exists(system):
        assert result.returncode == 78
        assert result.stderr == f"jarvis: {system}: cannot open: No such file or directory\n"
    else:
        assert f"config: {system}\n" in result.stdout


def test_option_spellings(workdir):
    config = bot_directory(workdir / "bot")
    for args in (["check", "-c", str(config)], ["check", f"-c{config}"],
                 ["check", "--config", str(config)], [f"--config={config}", "check"],
                 ["-c", str(config), "--", "check"]):
        result = run_jarvis(args)
        assert result.returncode == 0, (args, result.stderr)
        assert "4 of 4" in result.stdout, args
    version = run_jarvis(["-V"])
    assert version.returncode == 0 and version.stdout.startswith("jarvis 0.1.0 (plugin ABI ")
    assert run_jarvis(["--version"]).stdout == version.stdout
    for args in (["--", "-q"], ["run", "-q", "-c", str(config)], ["--config"],
                 ["check", "extra"], ["--quiet=yes", "check"]):
        result = run_jarvis(args)
        assert result.returncode == 64, args
        assert result.stderr.startswith("jarvis: "), args
        assert "usage: jarvis" in result.stderr


def test_check_quiet_prints_only_problems(workdir):
    config = bot_directory(workdir / "bot")
    # an unset env: value is an INFO line, not a problem
    config.write_text(config.read_text().replace("[bot]\n", "[bot]\ntoken = env:CLI_UNSET_TOKEN\n"))
    result = run_jarvis(["check", "-q", "-c", str(config)])
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"jarvis: the configuration file {config} syntax is ok",
        f"jarvis: configuration file {config} test is successful (4 plugin(s) loaded)"]
    assert " INFO " not in result.stderr
    assert result.stderr == ""
    broken = workdir / "broken.ini"
    broken.write_text(config.read_text().replace("dir = plugins", f"dir = {workdir}/bot/plugins")
                      .replace("enable = hello", "enable = hello, missing_one")
                      + "[unused_section]\nkey = 1\n")
    result = run_jarvis(["check", "--quiet", "-c", str(broken)])
    assert result.returncode == 1
    assert result.stdout == ""
    assert "missing_one.so: refused: no such file" in result.stderr
    assert "section [unused_section] matches no enabled plugin" in result.stderr
    assert "test failed: 4 of 5 enabled plugin(s) loaded, 1 refused" in result.stderr
    assert " INFO " not in result.stderr


def test_check_verbose_prints_settings_without_secrets(workdir):
    config = bot_directory(workdir / "bot")
    config.write_text(config.read_text().replace("[bot]\n", "[bot]\ntoken = env:CLI_TEST_TOKEN\n"
                                                 "transport = console\nworkers = 7\n"))
    result = run_jarvis(["check", "-v", "-c", str(config)],
                        env={"CLI_TEST_TOKEN": "123456789:AAsecretsecretsecretsecret"})
    assert result.returncode == 0, result.stderr
    assert "[bot] workers = 7\n" in result.stdout
    assert "[bot] token = ***\n" in result.stdout
    assert "[bot] transport = console\n" in result.stdout
    assert f"[plugins] enable = {ALL_PLUGINS}\n" in result.stdout
    assert "[lock] max_wait = 30\n" in result.stdout
    assert "secretsecret" not in result.stdout + result.stderr


def test_every_config_error_at_once(workdir):
    config = workdir / "plugins.ini"
    config.write_text("[bot]\nworkers = 0\nlog_level = loud\nwokers = 2\n"
                      "[lock]\nmax_wait = soon\n[plugins]\nenable = hello, hello\n"
                      "just words\n")
    for args in (["-c", str(config)], ["check", "-c", str(config)], ["status", "-c", str(config)]):
        result = run_jarvis(args)
        assert result.returncode == 78, args
        errors = [line for line in result.stderr.splitlines() if line.startswith("jarvis: ")]
        assert [line.split(": ", 2)[1] for line in errors] == [
            f"{config}:2", f"{config}:3", f"{config}:6", f"{config}:8", f"{config}:9"]
        assert "workers must be an integer 1..64 (found '0')" in errors[0]
        assert "unknown log_level (found 'loud'" in errors[1]
        assert "plugin 'hello' is listed twice in enable" in errors[3]
        assert "expected 'key = value' or '[section]' (found 'just words')" in errors[4]
        assert "unknown key 'wokers' in [bot], ignored (did you mean 'workers'?)" in result.stderr
        assert result.stdout == ""
