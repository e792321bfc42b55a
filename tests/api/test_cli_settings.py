"""A bad setting stops the command with a one-line message naming it, not a traceback."""

from click.testing import CliRunner

from api.cli.main import main


def test_a_bad_setting_is_named() -> None:
    result = CliRunner().invoke(
        main, ["migrate"], env={"DEALGRAPH_POOL_MIN_SIZE": "20", "DEALGRAPH_POOL_MAX_SIZE": "10"}
    )
    assert result.exit_code == 1
    assert "DEALGRAPH_POOL_MIN_SIZE (20) is larger than DEALGRAPH_POOL_MAX_SIZE (10)" in (
        result.output
    )
    assert "Traceback" not in result.output


def test_a_malformed_database_url_is_named() -> None:
    result = CliRunner().invoke(main, ["migrate"], env={"DATABASE_URL": "mysql://x"})
    assert result.exit_code == 1
    assert "configuration: DATABASE_URL: String should match pattern" in result.output
