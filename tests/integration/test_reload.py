"""Hot reload through the real ./jarvis against the fake Telegram: SIGHUP
(or `jarvis reload`) re-reads plugins.ini while updates flow. A plugin is
swapped between two real builds (test-plugins/versioned_v1.so and _v2.so,
one source built twice); every update is answered exactly once, by one of
them; a broken config or a refused .so changes nothing; sections, enable
lists, log_level and service consumers follow the file."""
import os
import pathlib
import shutil
import signal
import subprocess

import pytest

import conftest
from conftest import (JarvisProcess, built_plugin_dir, log_text, run_jarvis, start_fake_telegram,
                      telegram_bot_settings, wait_for, write_config)
from conftest import stop_jarvis as stop

TOKEN = "123456789:AAreloadRELOADreloadRELOADreload12345"


@pytest.fixture
def fake(processes):
    return start_fake_telegram(processes, "--token", TOKEN)


def plugin_dir(workdir, build=1):
    directory = pathlib.Path(workdir) / "plugins"
    directory.mkdir(mode=0o700, exist_ok=True)
    for name in ("hello.so",):
        shutil.copy(os.path.join(built_plugin_dir(), name), directory / name)
    for name in ("slow.so", "versioned_user.so"):
        shutil.copy(os.path.join(conftest.test_plugin_dir(), name), directory / name)
    install_build(directory, build)
    return directory


def install_build(directory, build):
    """Puts versioned_v<build>.so in place as versioned.so the way an
    installer must: a new file renamed over the old (never written in place)."""
    staging = pathlib.Path(directory) / ".versioned.so.new"
    shutil.copy(os.path.join(conftest.test_plugin_dir(), f"versioned_v{build}.so"), staging)
    os.chmod(staging, 0o700)
    os.replace(staging, pathlib.Path(directory) / "versioned.so")


def config(workdir, fake, directory, enable="hello, versioned", bot=None, sections=None):
    settings = telegram_bot_settings(workdir, fake.base, TOKEN, log_level="info")
    settings.update(bot or {})
    all_sections = {"bot": settings, "plugins": {"dir": str(directory), "enable": enable}}
    all_sections.update(sections or {})
    return write_config(workdir, all_sections)


def start(config_path, processes):
    bot = JarvisProcess(["-c", str(config_path)], stdin=subprocess.DEVNULL)
    processes.append(bot)
    return bot


def reload_lines(workdir):
    return [line for line in log_text(workdir).splitlines() if "] reload: loaded" in line]


def reload_and_wait(bot, workdir, count_before=None):
    """SIGHUP, then waits for the reload's summary line; returns it."""
    before = len(reload_lines(workdir)) if count_before is None else count_before
    bot.signal(signal.SIGHUP)
    assert wait_for(lambda: len(reload_lines(workdir)) > before, timeout=30), log_text(workdir)
    return reload_lines(workdir)[-1]


def ask(fake, chat, text, timeout=15):
    """Sends text to chat; returns the one reply it gets."""
    before = len(fake.sent_texts(chat))
    fake.message(chat, text)
    assert wait_for(lambda: len(fake.sent_texts(chat)) > before, timeout=timeout)
    return fake.sent_texts(chat)[-1]


def test_thousand_messages_through_ten_swaps(workdir, fake, processes):
    directory = plugin_dir(workdir)
    # a slow init: updates arrive while the new build is half loaded
    bot = start(config(workdir, fake, directory, sections={"versioned": {"init_delay_ms": 300}}),
                processes)
    assert ask(fake, 1, "/ver ready") == "v1 ready"
    chats = 10
    per_round = 100
    for round_number in range(10):
        batch = [{"chat_id": 100 + index % chats, "text": f"/ver {round_number}-{index}"}
                 for index in range(per_round)]
        before = len(reload_lines(workdir))
        fake.messages(batch[:per_round // 2])
        install_build(directory, 2 if round_number % 2 == 0 else 1)
        bot.signal(signal.SIGHUP)
        # the other half once the reload began: during the new build's init
        assert wait_for(lambda: log_text(workdir).count("SIGHUP: log reopened") > round_number)
        fake.messages(batch[per_round // 2:])
        assert wait_for(lambda: len(reload_lines(workdir)) > before, timeout=30)
        line = reload_lines(workdir)[-1]
        assert "swapped versioned" in line, line
    assert wait_for(lambda: fake.counters()["sent"] >= 1 + 10 * per_round, timeout=120,
                    interval=0.2)
    # a barrier per chat: a chat is answered in order, so a late or repeated
    # reply would show up before it
    fake.messages([{"chat_id": 100 + chat, "text": "/ver end"} for chat in range(chats)])
    assert wait_for(lambda: fake.counters()["sent"] >= 1 + 10 * per_round + chats, timeout=30)
    seen_builds = set()
    for chat in range(chats):
        texts = fake.sent_texts(100 + chat)
        expected = [f"{r}-{i}" for r in range(10) for i in range(per_round) if i % chats == chat]
        assert len(texts) == len(expected) + 1, texts
        for text, tag in zip(texts, expected + ["end"]):
            build, _, answered = text.partition(" ")
            assert build in ("v1", "v2"), text  # never "Unknown command" from a half-swap
            assert answered == tag, (text, tag)
            seen_builds.add(build)
        # builds alternate with the reloads, never back and forth within a round
    assert seen_builds == {"v1", "v2"}
    assert fake.counters()["sent"] == 1 + 10 * per_round + chats
    log = log_text(workdir)
    assert log.count("swapped versioned 1.0 -> 2.0") == 5, log
    assert log.count("swapped versioned 2.0 -> 1.0") == 5, log
    assert "unchanged hello" in reload_lines(workdir)[-1]
    stop(bot)


def test_syntax_error_keeps_the_running_configuration(workdir, fake, processes):
    directory = plugin_dir(workdir)
    config_path = config(workdir, fake, directory, sections={"versioned": {"greeting": "first"}})
    bot = start(config_path, processes)
    assert ask(fake, 2, "/greeting") == "first"
    good = config_path.read_text()
    install_build(directory, 2)
    config_path.write_text(good.replace("greeting = first", "greeting = second") + "\n[broken\n")
    bot.signal(signal.SIGHUP)
    assert wait_for(lambda: "the running configuration stays" in log_text(workdir), timeout=15)
    error_lines = [line for line in log_text(workdir).splitlines()
                   if "the running configuration stays" in line]
    assert len(error_lines) == 1 and "plugins.ini:" in error_lines[0], error_lines
    # neither the new build nor the new section was taken
    assert ask(fake, 2, "/ver x") == "v1 x"
    assert ask(fake, 2, "/greeting") == "first"
    assert reload_lines(workdir) == []
    config_path.write_text(good.replace("greeting = first", "greeting = second"))
    line = reload_and_wait(bot, workdir)
    assert "swapped versioned 1.0 -> 2.0" in line, line
    assert ask(fake, 2, "/ver y") == "v2 y"
    assert ask(fake, 2, "/greeting") == "second"
    stop(bot)


def test_refused_build_keeps_the_running_one(workdir, fake, processes):
    directory = plugin_dir(workdir)
    bot = start(config(workdir, fake, directory), processes)
    assert ask(fake, 3, "/count") == "count 1"
    staging = directory / "broken.tmp"
    staging.write_bytes(b"this is not an ELF file\n" * 100)
    os.chmod(staging, 0o700)
    os.replace(staging, directory / "versioned.so")
    line = reload_and_wait(bot, workdir)
    assert "refused versioned (dlopen failed)" in line, line
    assert "unchanged hello, versioned" in line, line
    log = log_text(workdir)
    assert "plugin " + str(directory / "versioned.so") + ": refused: dlopen failed" in log
    # the running build kept its in-memory state
    assert ask(fake, 3, "/count") == "count 2"
    assert ask(fake, 3, "/ver still") == "v1 still"
    stop(bot)


def test_new_build_failing_init_rolls_back_to_the_previous(workdir, fake, processes):
    directory = plugin_dir(workdir)
    bot = start(config(workdir, fake, directory, sections={"versioned": {"fail_init_build": 2}}),
                processes)
    assert ask(fake, 10, "/ver a") == "v1 a"
    install_build(directory, 2)
    line = reload_and_wait(bot, workdir)
    assert "refused versioned (init failed: build 2 refuses to start)" in line, line
    log = log_text(workdir)
    assert "new build refused (init failed: build 2 refuses to start); the previous build " \
           "runs again" in log, log
    assert ask(fake, 10, "/ver b") == "v1 b"
    stop(bot)


def test_a_file_written_in_place_is_refused(workdir, fake, processes):
    directory = plugin_dir(workdir)
    keep_v1 = directory / "keep_v1"
    os.link(directory / "versioned.so", keep_v1)  # the running v1 image's inode
    bot = start(config(workdir, fake, directory), processes)
    assert ask(fake, 11, "/ver a") == "v1 a"
    install_build(directory, 2)
    assert "swapped versioned 1.0 -> 2.0" in reload_and_wait(bot, workdir)
    # back to v1 by renaming its old file into place: the same inode as the
    # image still mapped, the same bytes: that image is started again
    os.link(keep_v1, directory / "v1_again")
    os.replace(directory / "v1_again", directory / "versioned.so")
    assert "swapped versioned 2.0 -> 1.0" in reload_and_wait(bot, workdir)
    assert ask(fake, 11, "/ver b") == "v1 b"
    install_build(directory, 2)
    assert "swapped versioned 1.0 -> 2.0" in reload_and_wait(bot, workdir)
    # now v1's inode written to (cp over a file, not a rename): appended to,
    # so the mapped pages stay intact, but the bytes are no longer those of
    # its image and dlopen would hand that image back: refused
    with open(keep_v1, "ab") as target:
        target.write(b"\0" * 64)
    os.replace(keep_v1, directory / "versioned.so")
    line = reload_and_wait(bot, workdir)
    assert "refused versioned (written in place)" in line, line
    assert "written over in place" in log_text(workdir)
    assert ask(fake, 11, "/ver c") == "v2 c"
    stop(bot)


def test_enable_and_disable_plugins_and_their_jobs(workdir, fake, processes):
    directory = plugin_dir(workdir)
    sections = {"versioned": {"job_interval_ms": 100, "job_chat": 77}}
    config_path = config(workdir, fake, directory, enable="hello, versioned", sections=sections)
    bot = start(config_path, processes)
    assert wait_for(lambda: "job v1" in fake.sent_texts(77), timeout=10)
    assert ask(fake, 4, "/ping") == "pong"
    config(workdir, fake, directory, enable="hello, slow", sections=sections)
    line = reload_and_wait(bot, workdir)
    assert "loaded slow 1.0" in line and "unloaded versioned" in line, line
    assert "unchanged hello" in line, line
    assert ask(fake, 4, "/ver x").startswith("Unknown command /ver")
    assert ask(fake, 4, "/say hi") == "hi"
    assert ask(fake, 4, "/ping") == "pong"
    # the unloaded plugin's job stopped: nothing more reaches chat 77
    jobs_after_reload = len(fake.sent_texts(77))
    assert ask(fake, 4, "/sleep 400") == "slept 400"
    assert len(fake.sent_texts(77)) == jobs_after_reload
    # enabled again (as v2): a new job starts
    install_build(directory, 2)
    config(workdir, fake, directory, enable="hello, slow, versioned", sections=sections)
    line = reload_and_wait(bot, workdir)
    assert "loaded versioned 2.0" in line and "unchanged hello, slow" in line, line
    assert wait_for(lambda: "job v2" in fake.sent_texts(77), timeout=10)
    texts = fake.sent_texts(77)
    assert "job v1" not in texts[texts.index("job v2"):]
    stop(bot)


def test_changed_section_restarts_only_that_plugin(workdir, fake, processes):
    directory = plugin_dir(workdir)
    config(workdir, fake, directory, enable="hello, slow, versioned",
           sections={"versioned": {"greeting": "hi"}})
    bot = start(workdir / "plugins.ini", processes)
    assert ask(fake, 5, "/greeting") == "hi"
    assert ask(fake, 5, "/count") == "count 1"
    config(workdir, fake, directory, enable="hello, slow, versioned",
           sections={"versioned": {"greeting": "hello there"}})
    line = reload_and_wait(bot, workdir)
    assert "restarted versioned (section changed)" in line, line
    assert "unchanged hello, slow" in line, line
    assert ask(fake, 5, "/greeting") == "hello there"
    # restarted: init ran again, its state starts over
    assert ask(fake, 5, "/count") == "count 1"
    # a reload that changes nothing keeps every plugin and its state
    line = reload_and_wait(bot, workdir)
    assert "unchanged hello, slow, versioned" in line, line
    assert ask(fake, 5, "/count") == "count 2"
    stop(bot)


def test_a_swapped_provider_restarts_its_consumer(workdir, fake, processes):
    directory = plugin_dir(workdir)
    bot = start(config(workdir, fake, directory, enable="hello, versioned, versioned_user"),
                processes)
    assert ask(fake, 6, "/askver") == "user sees v1"
    install_build(directory, 2)
    line = reload_and_wait(bot, workdir)
    assert "swapped versioned 1.0 -> 2.0" in line, line
    assert "restarted versioned_user (uses versioned)" in line, line
    assert ask(fake, 6, "/askver") == "user sees v2"
    # the consumer's own new file is refused: it restarts from its running build
    staging = directory / "user.tmp"
    staging.write_bytes(b"not a library\n")
    os.chmod(staging, 0o700)
    os.replace(staging, directory / "versioned_user.so")
    install_build(directory, 1)
    line = reload_and_wait(bot, workdir)
    assert "swapped versioned 2.0 -> 1.0" in line, line
    assert "restarted versioned_user (uses versioned)" in line, line
    assert "refused versioned_user (dlopen failed)" in line, line
    assert ask(fake, 6, "/askver") == "user sees v1"
    # disabling the provider takes its consumer's vtable away with it
    config(workdir, fake, directory, enable="hello, versioned_user")
    line = reload_and_wait(bot, workdir)
    assert "unloaded versioned" in line and "restarted versioned_user" in line, line
    assert ask(fake, 6, "/askver") == "user: no service"
    stop(bot)


def test_log_level_changes_live_and_restart_settings_are_named(workdir, fake, processes):
    directory = plugin_dir(workdir)
    config(workdir, fake, directory, enable="hello, slow, versioned", bot={"workers": 2})
    bot = start(workdir / "plugins.ini", processes)
    assert ask(fake, 8, "/ping") == "pong"
    assert ask(fake, 8, "/slowadmin") == "/slowadmin is for admins only."
    fake.message(8, "/ping@OtherBot", chat_type="group")
    assert ask(fake, 8, "/ver a") == "v1 a"
    assert " DEBUG " not in log_text(workdir)
    config(workdir, fake, directory, enable="hello, slow, versioned",
           bot={"workers": 3, "log_level": "debug", "admins": 8})
    line = reload_and_wait(bot, workdir)
    assert "settings log_level info -> debug, admins (1 now)" in line, line
    assert "unchanged hello, slow, versioned" in line, line
    assert ask(fake, 8, "/slowadmin") == "admin ok"
    assert "1 setting(s) need a restart" in line, line
    log = log_text(workdir)
    assert "reload: [bot] workers changed (2 -> 3): needs a restart" in log, log
    fake.message(8, "/ping@OtherBot", chat_type="group")
    assert ask(fake, 8, "/ver b") == "v1 b"
    assert wait_for(lambda: "command for another bot, ignored" in log_text(workdir))
    # the token is never named, even when it changes
    config(workdir, fake, directory, enable="hello, slow, versioned",
           bot={"workers": 3, "log_level": "info", "admins": 8,
                "token": "123456789:AAotherOTHERotherOTHERother1234"})
    line = reload_and_wait(bot, workdir)
    log = log_text(workdir)
    assert "reload: [bot] token changed: needs a restart" in log
    assert "AAotherOTHER" not in log and TOKEN.split(":")[1] not in log
    assert ask(fake, 8, "/ping") == "pong"  # still polling with the running token
    stop(bot)


def test_jarvis_reload_command(workdir, fake, processes):
    directory = plugin_dir(workdir)
    config_path = config(workdir, fake, directory)
    result = run_jarvis(["reload", "-c", str(config_path)])
    assert result.returncode == 3, result.stdout + result.stderr
    assert "no instance runs" in result.stdout
    bot = start(config_path, processes)
    assert ask(fake, 9, "/ver a") == "v1 a"
    install_build(directory, 2)
    result = run_jarvis(["reload", "-c", str(config_path)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"reload requested from pid {bot.pid}" in result.stdout
    assert wait_for(lambda: len(reload_lines(workdir)) == 1, timeout=15)
    assert "swapped versioned 1.0 -> 2.0" in reload_lines(workdir)[0]
    assert ask(fake, 9, "/ver b") == "v2 b"
    stop(bot)
    result = run_jarvis(["reload", "-c", str(config_path)])
    assert result.returncode == 3


def test_a_search_path_finds_each_plugin_on_reload(workdir, fake, processes):
    """[plugins] dir = a:b: at start and on SIGHUP alike, each plugin comes
    from the first entry holding its file (hello and slow in a, versioned
    in b), so a reload swaps and loads instead of refusing them all."""
    first = pathlib.Path(workdir) / "first"
    second = pathlib.Path(workdir) / "second"
    for directory in (first, second):
        directory.mkdir(mode=0o700)
    shutil.copy(os.path.join(built_plugin_dir(), "hello.so"), first / "hello.so")
    shutil.copy(os.path.join(conftest.test_plugin_dir(), "slow.so"), first / "slow.so")
    install_build(second, 1)
    search_path = f"{first}:{second}"
    bot = start(config(workdir, fake, search_path), processes)
    assert ask(fake, 5, "/ver a") == "v1 a"
    install_build(second, 2)
    config(workdir, fake, search_path, enable="hello, versioned, slow")
    line = reload_and_wait(bot, workdir)
    assert "swapped versioned 1.0 -> 2.0" in line, line
    assert "loaded slow 1.0" in line and "unchanged hello" in line, line
    assert "refused" not in line, line
    assert ask(fake, 5, "/ver b") == "v2 b"
    assert ask(fake, 5, "/say hi") == "hi"
    assert ask(fake, 5, "/ping") == "pong"
    stop(bot)
