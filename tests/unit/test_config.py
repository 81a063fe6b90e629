import pytest

from callcenter.config import load_settings
from callcenter.hotline import load_hotline, parse_hotline
from callcenter.yamlsrc import ConfigError


def test_no_configuration_gives_the_embedded_demo_hotline():
    settings = load_settings({})
    assert settings.embedded_redis and settings.database_url.startswith("sqlite")
    assert {"general", "technical", "level2"} <= set(settings.hotline.queues)
    assert settings.hotline.queues["level2"].second_level
    assert len([o for o in settings.hotline.operators if o.role == "operator"]) >= 2
    assert settings.hotline.business_hours.timezone == "Europe/Budapest"
    assert settings.hotline.hotline.languages == ("hu", "en")


def test_environment_overrides_defaults():
    settings = load_settings(
        {
            "CALLCENTER_DATABASE_URL": "postgresql://u@db/cc",
            "CALLCENTER_REDIS_URL": "redis://cache:6379/1",
            "TWILIO_ACCOUNT_SID": "AC123",
            "TWILIO_AUTH_TOKEN": "secret",
            "CALLCENTER_PORT": "8080",
        }
    )
    assert settings.database_url == "postgresql://u@db/cc"
    assert not settings.embedded_redis and not settings.embedded_worker
    assert settings.twilio.configured and settings.port == 8080


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"CALLCENTER_PORT": "eighty"}, "CALLCENTER_PORT='eighty': expected a whole number"),
        ({"CALLCENTER_PORT": "70000"}, "CALLCENTER_PORT='70000': expected a port number"),
        ({"CALLCENTER_DATABASE_URL": "mysql://x/y"}, "CALLCENTER_DATABASE_URL='mysql://x/y': expected a URL"),
        ({"CALLCENTER_EMBEDDED_WORKER": "maybe"}, "CALLCENTER_EMBEDDED_WORKER='maybe': expected true or false"),
        ({"CALLCENTER_CONFIG": "/nonexistent.yaml"}, "CALLCENTER_CONFIG: no such file"),
    ],
)
def test_bad_environment_value_names_the_variable(env, expected):
    with pytest.raises(ConfigError) as exc:
        load_settings(env)
    assert str(exc.value).startswith(expected)


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = tmp_path / "hotline.yaml"
    path.write_text("queues:\n  general:\n    priority: [1,\n")
    with pytest.raises(ConfigError, match=r"hotline.yaml:4: malformed YAML"):
        load_hotline(path)


def test_bad_value_names_key_and_line():
    text = "queues:\n  general:\n    wrap_up_seconds: 30\n    ring_timeout_seconds: soon\n"
    with pytest.raises(ConfigError) as exc:
        parse_hotline(text, "h.yaml")
    assert str(exc.value).startswith("h.yaml:4: queues.general.ring_timeout_seconds: Input should be a valid integer")


def test_unknown_references_name_the_line_of_the_reference():
    text = "skills: [internet]\nqueues:\n  a:\n    priority: 1\n    skills: {cooking: 2}\n"
    with pytest.raises(ConfigError, match=r"h.yaml:5: queues.a.skills: unknown skill 'cooking'"):
        parse_hotline(text, "h.yaml")


def test_duplicate_keys_are_refused():
    with pytest.raises(ConfigError, match=r"h.yaml:3: duplicate key 'a'"):
        parse_hotline("queues:\n  a: {}\n  a: {}\n", "h.yaml")


def test_overflow_without_a_target_queue_is_refused():
    with pytest.raises(ConfigError, match="'overflow' needs overflow_queue"):
        parse_hotline("queues:\n  a:\n    on_max_wait: overflow\n", "h.yaml")


def test_an_impossible_date_names_its_line():
    text = "business_hours:\n  holidays:\n    - 2026-12-24\n    - 2026-02-30\n"
    with pytest.raises(ConfigError, match=r"h.yaml:4: '2026-02-30' is not valid"):
        parse_hotline(text, "h.yaml")
