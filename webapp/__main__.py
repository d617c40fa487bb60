"""The `copydesk` command (and `python -m webapp`): the same commands as `flask --app webapp`."""

from flask.cli import FlaskGroup

from . import create_app


def main() -> None:
    """Run the command line with an app built by `create_app`."""
    FlaskGroup(create_app=create_app, help="Copydesk: the moderation desk for news seeds.")()


if __name__ == "__main__":
    main()
