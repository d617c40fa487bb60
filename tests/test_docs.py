"""The README names every command, every environment variable the app reads and every module."""

import ast
import re

import click
from flask import Flask
from flask_migrate.cli import db as migrate_cli

from tests.factories import ROOT
from webapp import cli

README = (ROOT / "README.md").read_text(encoding="utf-8")
SOURCES = [*sorted((ROOT / "webapp").rglob("*.py")), ROOT / "wsgi.py", ROOT / "gunicorn.conf.py"]


def section(title: str, text: str = README) -> str:
    """The text under `## title` (in the README, or `text`), up to the next `## ` heading."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"no section '## {title}'"
    return match.group(1)


def command_names(group: click.Group, prefix: str = ""):
    """`seeds import`, `users create`, `export`...: every command under `group`, with its groups' names."""
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from command_names(command, f"{prefix}{name} ")
        else:
            yield prefix + name


def test_every_command_is_in_the_commands_table():
    app = Flask(__name__)
    cli.init_app(app)
    # Flask-Migrate's own `db` commands are Alembic's, documented there; the table names `db upgrade`.
    alembic = {f"db {name}" for name in migrate_cli.commands} - {"db upgrade"}
    commands = sorted(set(command_names(app.cli)) - alembic)
    assert {"db upgrade", "db backup", "export", "seeds import", "users create"} <= set(commands)
    table = section("Commands")
    assert [name for name in commands if not re.search(rf"`{re.escape(name)}[ `]", table)] == []


def _reads_environment(call: ast.Call) -> bool:
    """os.environ.get(...) or os.getenv(...)."""
    function = call.func
    if isinstance(function, ast.Attribute) and function.attr == "get":
        return isinstance(function.value, ast.Attribute | ast.Name) and ast.unparse(function.value).endswith(
            "environ"
        )
    return ast.unparse(function).split(".")[-1] == "getenv"


def _first_argument(node: ast.Call | ast.Subscript, index: int = 0):
    arguments = [node.slice] if isinstance(node, ast.Subscript) else node.args
    return arguments[index] if len(arguments) > index else None


def environment_variables() -> set[str]:
    """The names webapp/ and the serving files read from the environment: directly, or through a helper."""
    trees = [ast.parse(path.read_text(encoding="utf-8")) for path in SOURCES]
    helpers = {}  # function name -> position of the parameter it reads from the environment
    for tree in trees:
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            parameters = [argument.arg for argument in function.args.args]
            for call in ast.walk(function):
                if isinstance(call, ast.Call) and _reads_environment(call):
                    argument = _first_argument(call)
                    if isinstance(argument, ast.Name) and argument.id in parameters:
                        helpers[function.name] = parameters.index(argument.id)
    names = set()
    for tree in trees:
        for node in ast.walk(tree):
            argument = None
            if isinstance(node, ast.Call) and _reads_environment(node):
                argument = _first_argument(node)
            elif isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] in helpers:
                argument = _first_argument(node, helpers[ast.unparse(node.func).split(".")[-1]])
            elif isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith("environ"):
                argument = _first_argument(node)
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                names.add(argument.value)
    return names


def test_every_environment_variable_is_in_the_configuration_table_and_no_other():
    read = environment_variables()
    assert {"DATABASE_URL", "SECRET_KEY", "ADMIN_PASSWORD", "HEAT_MAX", "COPYDESK_ENV"} <= read
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", section("Configuration"), re.MULTILINE))
    assert (sorted(read - documented), sorted(documented - read)) == ([], [])


def layout_paths() -> list[str]:
    """The paths the README's Layout tree names, each under the folders it is indented in."""
    tree = re.search(r"```\n(.*?)```", section("Layout"), re.DOTALL).group(1)
    paths, folders = [], []
    for line in tree.splitlines():
        depth = (len(line) - len(line.lstrip(" "))) // 2
        assert depth <= len(folders), f"Layout: {line.strip()!r} is indented deeper than its folder"
        del folders[depth:]
        name = line.split()[0]
        paths.append("".join(folders) + name)
        if name.endswith("/"):
            folders.append(name)
    return paths


def test_every_module_is_in_the_layout_under_its_folder_and_every_module_named_exists():
    modules = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "webapp").rglob("*.py")
        if path.name != "__init__.py" and "versions" not in path.parts
    )
    assert {"webapp/models.py", "webapp/web/queue.py", "webapp/formats/seeds.py"} <= set(modules)
    listed = layout_paths()
    assert [module for module in modules if module not in listed] == []
    named = [path for path in listed if path.startswith("webapp/") and path.endswith(".py")]
    assert [path for path in named if not (ROOT / path).is_file()] == []
    assert len(named) == len(set(named)), "a module is named twice in the Layout"


def test_commands_are_shown_as_they_run_after_make_run():
    # `make run` installs into .venv without activating it: a bare `flask` or `copydesk` is not on the PATH.
    bare = re.findall(r"(?:^|[`\s])((?:flask|copydesk) [a-z-]+)", README, re.MULTILINE)
    assert bare == []
    assert "`.venv/bin/copydesk COMMAND`" in section("Commands")
    assert ".venv/bin/copydesk users create" in section("Add your team")


DEPLOY = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
CONTAINERFILE = (ROOT / "Containerfile").read_text(encoding="utf-8")


def test_the_deployment_guide_lists_every_environment_variable_the_app_reads():
    documented = set(
        re.findall(r"^\| `([A-Z_]+)` \|", section("Environment variables", DEPLOY), re.MULTILINE)
    )
    assert {"DATABASE_URL", "SECRET_KEY"} <= documented
    assert sorted(environment_variables() - documented) == []


def test_the_deployment_guide_runs_only_commands_that_exist():
    app = Flask(__name__)
    cli.init_app(app)
    known = set(command_names(app.cli))
    # `copydesk WORD [WORD]`, not the user, the database or the image of that name (`copydesk copydesk db …`).
    named = {
        name
        for name in re.findall(r"(?<![\w.@-])copydesk ([a-z][a-z-]*(?: [a-z][a-z-]*)?)", DEPLOY)
        if not name.startswith("copydesk")
    }
    used = {name if name in known else name.split()[0] for name in named}
    assert {"db upgrade", "db backup", "users ensure-admin", "users create", "export"} <= used
    assert sorted(used - known) == []


def test_the_image_is_built_in_stages_and_runs_the_served_config_unprivileged_with_a_health_check():
    assert len(re.findall(r"^FROM ", CONTAINERFILE, re.MULTILINE)) == 2
    assert re.search(r"--no-index --find-links /wheels copydesk\b", CONTAINERFILE)
    users = re.findall(r"^USER (\S+)$", CONTAINERFILE, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*http://127\.0\.0\.1:8000/healthz", CONTAINERFILE, re.MULTILINE)
    command = 'CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]'
    assert CONTAINERFILE.rstrip().endswith(command)
    assert "gunicorn -c gunicorn.conf.py wsgi:app" in DEPLOY
