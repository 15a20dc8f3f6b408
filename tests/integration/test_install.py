"""make install / uninstall, the installed files, and plugins built out of the
tree against them: a DESTDIR install with pkg-config through
PKG_CONFIG_SYSROOT_DIR, and a real prefix install whose binary, plugins,
config, unit and man pages are used as installed. Also the self-contained
plugins (only the .so files copied) and the `new-plugin` scaffold."""
import os
import pathlib
import re
import shutil
import subprocess

import pytest

from conftest import OUT, REPO, assert_no_sanitizer_report, run_jarvis

SANITIZED = OUT != REPO
MAKE_FLAVOUR = ["SAN=1"] if SANITIZED else []
EXAMPLE = REPO / "contrib" / "examples" / "weather.c"


def make(*args, check=True):
    result = subprocess.run(["make", "-s", "-C", str(REPO)] + MAKE_FLAVOUR + list(args),
                            capture_output=True, text=True, timeout=600)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def files_under(root):
    root = pathlib.Path(root)
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if not path.is_dir())


def pkg_config(env, *args):
    result = subprocess.run(["pkg-config"] + list(args), capture_output=True, text=True,
                            env=env, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def build_example(env, source, output):
    cflags = pkg_config(env, "--cflags", "jarvis")
    command = f"cc -shared -fPIC {cflags} -o {output} {source}"
    result = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, command + "\n" + result.stderr
    return cflags


def run_installed(binary, args, stdin_text="", cwd=None, env=None):
    full_env = {key: value for key, value in os.environ.items()
                if key not in ("TELEGRAM_BOT_TOKEN", "XAI_API_KEY", "JARVIS_CONFIG")}
    full_env.update(env or {})
    result = subprocess.run([str(binary)] + list(args), input=stdin_text, capture_output=True,
                            text=True, timeout=60, cwd=cwd, env=full_env)
    assert_no_sanitizer_report(result.stderr)
    return result


def rebuild_with_default_paths():
    """Another PREFIX compiles another default config path into the binary:
    put the tree's build back as the other tests expect it."""
    make("all")


# ---- DESTDIR ----

@pytest.fixture
def staged(tmp_path):
    """A DESTDIR install under a prefix that does not exist on this machine."""
    prefix = f"/opt/jarvis-install-test-{os.getpid()}"
    stage = tmp_path / "stage"
    make("install", f"DESTDIR={stage}", f"PREFIX={prefix}")
    yield stage, prefix
    assert not os.path.exists(prefix), "a DESTDIR install wrote outside DESTDIR"
    rebuild_with_default_paths()


def test_destdir_install_puts_everything_in_its_place(staged):
    stage, prefix = staged
    files = files_under(stage)
    expected = ["bin/jarvis", "include/jarvis/plugin.h", "include/jarvis/util.h",
                "include/jarvis/text.h",
                "include/jarvis/svc/sentiment_score.h", "include/jarvis/svc/sentiment_weight.h",
                "lib/pkgconfig/jarvis.pc", "etc/jarvis/plugins.ini",
                "share/man/man1/jarvis.1", "share/man/man7/jarvis-plugin.7",
                "lib/systemd/system/jarvis.service", "share/doc/jarvis/config.md"]
    expected += [f"lib/jarvis/plugins/{name}.so"
                 for name in ("hello", "sentiment", "grok_weighting", "dexter_finance")]
    for name in expected:
        assert prefix.lstrip("/") + "/" + name in files, name
    # only the .so files: no data directories next to them
    plugin_dir = stage / prefix.lstrip("/") / "lib/jarvis/plugins"
    assert sorted(p.name for p in plugin_dir.iterdir()) == [
        "dexter_finance.so", "grok_weighting.so", "hello.so", "sentiment.so"]
    assert all(name.startswith(prefix.lstrip("/") + "/") for name in files)
    assert os.access(stage / prefix.lstrip("/") / "bin/jarvis", os.X_OK)


def test_installed_files_name_the_installed_paths(staged):
    stage, prefix = staged
    root = stage / prefix.lstrip("/")
    ini = (root / "etc/jarvis/plugins.ini").read_text()
    assert f"dir = {prefix}/lib/jarvis/plugins\n" in ini
    assert "state_dir = /var/lib/jarvis\n" in ini
    assert "path = /run/jarvis/jarvis.lock\n" in ini
    unit = (root / "lib/systemd/system/jarvis.service").read_text()
    assert f"ExecStart={prefix}/bin/jarvis -c {prefix}/etc/jarvis/plugins.ini\n" in unit
    assert not re.search(r"@[A-Z]+@", unit), "an unsubstituted @VARIABLE@"
    pc = (root / "lib/pkgconfig/jarvis.pc").read_text()
    assert f"includedir={prefix}/include\n" in pc
    assert f"plugindir={prefix}/lib/jarvis/plugins\n" in pc


def test_installing_twice_is_harmless_and_keeps_an_edited_config(staged):
    stage, prefix = staged
    before = files_under(stage)
    ini = stage / prefix.lstrip("/") / "etc/jarvis/plugins.ini"
    ini.write_text(ini.read_text() + "\n; edited by the owner\n")
    make("install", f"DESTDIR={stage}", f"PREFIX={prefix}")
    assert files_under(stage) == before
    assert ini.read_text().endswith("; edited by the owner\n")


def test_uninstall_removes_what_install_put_there_but_the_config(staged):
    stage, prefix = staged
    make("uninstall", f"DESTDIR={stage}", f"PREFIX={prefix}")
    assert files_under(stage) == [prefix.lstrip("/") + "/etc/jarvis/plugins.ini"]
    make("uninstall", f"DESTDIR={stage}", f"PREFIX={prefix}")  # twice is harmless too


def test_out_of_tree_plugin_builds_with_pkg_config_against_destdir(staged, tmp_path):
    stage, prefix = staged
    env = dict(os.environ, PKG_CONFIG_SYSROOT_DIR=str(stage),
               PKG_CONFIG_PATH=str(stage / prefix.lstrip("/") / "lib/pkgconfig"),
               PKG_CONFIG_LIBDIR="")
    local = tmp_path / "local-plugins"
    local.mkdir(mode=0o755)
    cflags = build_example(env, EXAMPLE, local / "weather.so")
    assert cflags == f"-I{stage}{prefix}/include"
    assert pkg_config(env, "--variable=plugindir", "jarvis").endswith(
        f"{prefix}/lib/jarvis/plugins")
    system = stage / prefix.lstrip("/") / "lib/jarvis/plugins"
    config = tmp_path / "plugins.ini"
    config.write_text(f"[bot]\nstate_dir = state\n[lock]\npath = run/jarvis.lock\n"
                      f"[plugins]\ndir = local-plugins:{system}\n"
                      f"enable = hello, weather\n")
    binary = stage / prefix.lstrip("/") / "bin/jarvis"
    result = run_installed(binary, ["-c", str(config)],
                           "/weather New York\n/weather a&b=c\n/ping\n", cwd="/")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["https://wttr.in/?q=New%20York",
                                          "https://wttr.in/?q=a%26b%3Dc", "pong"]
    assert f"plugin {local}/weather.so loaded" in result.stderr
    assert f"plugin {system}/hello.so loaded" in result.stderr


# ---- a real prefix: the installed binary, config, unit and man pages ----

@pytest.fixture
def prefix_install(tmp_path):
    prefix = tmp_path / "prefix"
    variables = [f"PREFIX={prefix}", f"LOCALSTATEDIR={tmp_path}/var",
                 f"RUNSTATEDIR={tmp_path}/run"]
    make("install", *variables)
    yield prefix, variables
    make("uninstall", *variables)
    rebuild_with_default_paths()


def test_installed_config_checks_and_chats_with_only_the_so_files(prefix_install, tmp_path):
    prefix, _ = prefix_install
    config = prefix / "etc/jarvis/plugins.ini"
    binary = prefix / "bin/jarvis"
    result = run_installed(binary, ["check", "-c", str(config)], cwd="/")
    assert result.returncode == 0, result.stderr
    assert f"config: {config}\n" in result.stdout
    assert f"plugin dirs: {prefix}/lib/jarvis/plugins\n" in result.stdout
    assert f"state_dir: {tmp_path}/var/lib/jarvis\n" in result.stdout
    assert "4 of 4 enabled plugin(s) loaded, 0 refused: ok" in result.stdout
    result = run_installed(binary, ["-c", str(config)],
                           "/ping\nprice of SOL\n/sentiment this is great news\n", cwd="/")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "pong"
    assert any(line.startswith("SOL") and "$" in line for line in lines), result.stdout
    assert "offline sample data as of" in result.stdout
    assert "market data unavailable" not in result.stdout.lower()
    assert "lexicon built-in lexicon" in result.stderr
    assert "market data: file (built-in sample)" in result.stderr
    # the lock's missing directory was created 0700, like the state dir
    assert oct((tmp_path / "run/jarvis").stat().st_mode & 0o777) == "0o700"
    assert oct((tmp_path / "var/lib/jarvis").stat().st_mode & 0o777) == "0o700"


def test_out_of_tree_plugin_installs_into_plugindir_and_loads(prefix_install, tmp_path):
    prefix, _ = prefix_install
    env = dict(os.environ, PKG_CONFIG_PATH=str(prefix / "lib/pkgconfig"))
    plugindir = pathlib.Path(pkg_config(env, "--variable=plugindir", "jarvis"))
    assert plugindir == prefix / "lib/jarvis/plugins"
    build_example(env, EXAMPLE, plugindir / "weather.so")
    config = prefix / "etc/jarvis/plugins.ini"
    text = config.read_text().replace("enable = hello, sentiment, grok_weighting, dexter_finance",
                                      "enable = hello, sentiment, grok_weighting, "
                                      "dexter_finance, weather")
    config.write_text(text)
    result = run_installed(prefix / "bin/jarvis", ["-c", str(config)],
                           "/weather Zürich\n/ping\n", cwd="/")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["https://wttr.in/?q=Z%C3%BCrich", "pong"]
    assert "loaded 5 (hello, sentiment, grok_weighting, dexter_finance, weather)" in result.stderr
    (plugindir / "weather.so").unlink()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze missing (make deps installs systemd)")
def test_installed_unit_verifies_and_is_hardened(prefix_install):
    prefix, _ = prefix_install
    unit = prefix / "lib/systemd/system/jarvis.service"
    # MANPATH: verify also runs man for each Documentation=man: entry
    env = dict(os.environ, MANPATH=str(prefix / "share/man"))
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                            text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    result = subprocess.run(["systemd-analyze", "security", "--offline=true", str(unit)],
                            capture_output=True, text=True, timeout=120)
    match = re.search(r"Overall exposure level for jarvis\.service: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= 2.0, result.stdout
    text = unit.read_text()
    for setting in ("Type=notify", "WatchdogSec=", "StateDirectory=jarvis",
                    "RuntimeDirectory=jarvis", "User=jarvis", "NotifyAccess=main"):
        assert setting in text


def test_man_pages_render_without_warnings(prefix_install):
    prefix, _ = prefix_install
    for page in ("man1/jarvis.1", "man7/jarvis-plugin.7"):
        result = subprocess.run(["man", "--warnings", "-l", str(prefix / "share/man" / page)],
                                capture_output=True, text=True, timeout=60,
                                env=dict(os.environ, MANWIDTH="80"))
        assert result.returncode == 0, result.stderr
        assert result.stderr == "", page + ": " + result.stderr
    text = subprocess.run(["man", "-l", str(prefix / "share/man/man1/jarvis.1")],
                          capture_output=True, text=True, env=dict(os.environ, MANWIDTH="80"),
                          timeout=60).stdout
    for heading in ("COMMANDS", "OPTIONS", "EXIT STATUS", "FILES", "SIGNALS"):
        assert heading in text


def test_man_page_example_is_the_example_that_is_built():
    roff = (REPO / "man" / "jarvis-plugin.7").read_text()
    code = roff.split(".SH EXAMPLE\n.nf\n", 1)[1].split("\n.fi", 1)[0]
    code = code.replace("\\-", "-").replace("\\(aq", "'").replace("\\e", "\\")
    assert code + "\n" == EXAMPLE.read_text()


# ---- self-contained plugins and the scaffold ----

def test_only_the_so_files_answer_as_in_the_tree(tmp_path):
    bare = tmp_path / "bare"
    (bare / "plugins").mkdir(parents=True, mode=0o755)
    for name in ("hello", "sentiment", "grok_weighting", "dexter_finance"):
        shutil.copy(OUT / "plugins" / f"{name}.so", bare / "plugins" / f"{name}.so")
    in_tree = tmp_path / "tree"
    in_tree.mkdir()
    questions = "/ping\nprice of SOL\nIs BTC bullish?\n/sentiment SOL is going to the moon\n"
    answers = []
    for directory, extra in ((bare, ""), (in_tree, (
            f"[sentiment]\nlexicon = {REPO}/plugins/sentiment/lexicon.txt\n"
            f"[dexter_finance]\ndata_file = {REPO}/plugins/dexter_finance/sample_market.json\n"))):
        plugins = bare / "plugins" if directory is bare else OUT / "plugins"
        config = directory / "plugins.ini"
        config.write_text(f"[bot]\nstate_dir = state\n[lock]\npath = jarvis.lock\n"
                          f"[plugins]\ndir = {'plugins' if directory is bare else plugins}\n"
                          f"enable = hello, sentiment, grok_weighting, dexter_finance\n" + extra)
        result = run_jarvis(["-c", str(config)], questions, cwd="/")
        assert result.returncode == 0, result.stderr
        assert "refused 0" in result.stderr
        answers.append(result.stdout)
    assert answers[0] == answers[1]
    assert "unavailable" not in answers[0]
    # a configured file still replaces the built-in data
    config = bare / "plugins.ini"
    config.write_text(config.read_text() + "[sentiment]\nlexicon = tiny.txt\n")
    (bare / "tiny.txt").write_text("moon\t3.0\n")
    result = run_jarvis(["-c", str(config)], "/ping\n", cwd="/")
    assert "lexicon tiny.txt: 1 entries" in result.stderr  # read from the config's directory


def test_new_plugin_writes_a_plugin_named_for_itself(tmp_path):
    result = run_jarvis(["new-plugin", "weather", str(tmp_path)])
    assert result.returncode == 0, result.stderr
    source = tmp_path / "weather.c"
    assert f"wrote {source}" in result.stdout
    assert "pkg-config --cflags jarvis" in result.stdout
    text = source.read_text()
    assert '.name = "weather"' in text and 'JV_PLUGIN_DEFINE("weather"' in text
    assert "/ping" not in text and "/echo" not in text
    plugins = tmp_path / "plugins"
    plugins.mkdir(mode=0o755)
    shutil.copy(OUT / "plugins" / "hello.so", plugins / "hello.so")
    compiled = subprocess.run(["cc", "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror",
                               f"-I{REPO}/include", "-o", str(plugins / "weather.so"),
                               str(source)], capture_output=True, text=True, timeout=120)
    assert compiled.returncode == 0, compiled.stderr
    config = tmp_path / "plugins.ini"
    config.write_text("[bot]\nstate_dir = state\n[lock]\npath = jarvis.lock\n"
                      "[plugins]\ndir = plugins\nenable = hello, weather\n"
                      "[weather]\ngreeting = forecast\n")
    result = run_jarvis(["-c", str(config)], "/weather sunny\n/weather\n/ping\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["forecast: sunny", "usage: /weather <text>", "pong"]
    # never overwrites; a bad name is a usage error
    again = run_jarvis(["new-plugin", "weather", str(tmp_path)])
    assert again.returncode == 73
    assert "not overwritten" in again.stderr
    assert source.read_text() == text
    assert run_jarvis(["new-plugin", "Bad-Name", str(tmp_path)]).returncode == 64
    assert run_jarvis(["new-plugin", "core", str(tmp_path)]).returncode == 64
    assert run_jarvis(["new-plugin"]).returncode == 64
