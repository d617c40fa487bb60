"""Settings read from the environment, with safe defaults for a laptop."""

import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path

from limits import parse_many

DEFAULT_SEED_MAX_BYTES = 2 * 1024 * 1024
DEFAULT_MAX_UPLOAD_BYTES = 256 * 1024 * 1024
JOBS_URL_SCHEMES = ("sqlite:///", "redis://", "rediss://", "unix://")
DEFAULT_LOGIN_RATE_LIMIT = "10 per minute; 100 per hour"
DEFAULT_REJECT_REASONS = "off-topic; duplicate; paywalled; low quality; outdated; wrong category"
# Picked with the keys 1 to 9 after `r`; a listed reason leaves room for a note in the 500 characters.
MAX_REJECT_REASONS = 9
MAX_REJECT_REASON_LENGTH = 100
LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
MIN_METRICS_TOKEN_LENGTH = 16


class ConfigError(RuntimeError):
    """The environment does not describe a runnable app."""


def from_environment(instance_path: str, overrides: dict) -> dict:
    """Build the Flask config from environment variables; keys in `overrides` are not read."""
    production = overrides.get("COPYDESK_ENV", os.environ.get("COPYDESK_ENV", "development")) == "production"
    url = overrides.get("SQLALCHEMY_DATABASE_URI") or database_url(instance_path)
    max_hours = positive_int("SESSION_MAX_HOURS", 7 * 24)
    max_upload = positive_int("MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES)
    return {
        "COPYDESK_ENV": "production" if production else "development",
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": overrides.get("SECRET_KEY") or secret_key(instance_path, production),
        "SEED_MAX_BYTES": positive_int("SEED_MAX_BYTES", DEFAULT_SEED_MAX_BYTES),
        # Statements' parameters (passwords' hashes, secured payloads) stay out of SQL logs and errors.
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(url) | {"hide_parameters": True},
        "TRUSTED_PROXIES": non_negative_int("TRUSTED_PROXIES", 0),
        # A web process checkpoints a SQLite file every so many seconds (0: in commits, SQLite's default).
        "SQLITE_CHECKPOINT_SECONDS": non_negative_int("SQLITE_CHECKPOINT_SECONDS", 1),
        "HEAT_MAX": positive_int("HEAT_MAX", 200),
        "STALE_AFTER_HOURS": positive_int("STALE_AFTER_HOURS", 48),
        "CLAIM_SECONDS": positive_int("CLAIM_SECONDS", 300),
        "UNDO_SECONDS": positive_int("UNDO_SECONDS", 10),
        "POLL_SECONDS": positive_int("POLL_SECONDS", 10),
        "SHOW_IMAGES": flag("SHOW_IMAGES", True),
        "REJECT_REASONS": reject_reasons("REJECT_REASONS", DEFAULT_REJECT_REASONS),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "SESSION_IDLE_MINUTES": positive_int("SESSION_IDLE_MINUTES", 12 * 60),
        "SESSION_MAX_HOURS": max_hours,
        # Flask refuses a session cookie signed longer ago than this, whatever the app checks.
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=max_hours),
        "LOGIN_RATE_LIMIT": rate_limit("LOGIN_RATE_LIMIT", DEFAULT_LOGIN_RATE_LIMIT),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "").strip() or "memory://",
        "RATELIMIT_KEY_PREFIX": "copydesk",
        "RATELIMIT_HEADERS_ENABLED": True,
        # An unreachable Redis throttles each process on its own rather than refusing every login.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        # Unset in development: logging is left as Flask and the development server set it up.
        "LOG_FORMAT": choice("LOG_FORMAT", LOG_FORMATS, "json" if production else None),
        "LOG_LEVEL": choice("LOG_LEVEL", LOG_LEVELS, "INFO"),
        "METRICS_TOKEN": token("METRICS_TOKEN", MIN_METRICS_TOKEN_LENGTH),
        "METRICS_ALLOW": networks("METRICS_ALLOW"),
        "JOBS_URL": jobs_url(url, instance_path),
        "JOBS_IMMEDIATE": False,
        # Exports to download and uploads to import: the web processes and the worker must share it.
        "JOBS_FOLDER": os.environ.get("JOBS_FOLDER", "").strip() or str(Path(instance_path) / "jobs"),
        "JOB_LEASE_SECONDS": positive_int("JOB_LEASE_SECONDS", 60),
        "EXPORT_KEEP_DAYS": positive_int("EXPORT_KEEP_DAYS", 7),
        "MAX_UPLOAD_BYTES": max_upload,
        # Flask answers 413 to a request larger than this, before the view reads any of it.
        "MAX_CONTENT_LENGTH": max_upload,
        # Each file of a multi-file upload is one part of the form; werkzeug's default is 1,000.
        "MAX_FORM_PARTS": positive_int("UPLOAD_MAX_FILES", 1000) + 10,
        "ZIP_MAX_FILES": positive_int("ZIP_MAX_FILES", 50_000),
        "ZIP_MAX_UNCOMPRESSED_BYTES": positive_int("ZIP_MAX_UNCOMPRESSED_BYTES", 1024 * 1024 * 1024),
    }


def instance_path(project_root: Path) -> str | None:
    """`COPYDESK_INSTANCE`; else a checkout's own `instance/`; else (installed) Flask's default."""
    chosen = os.environ.get("COPYDESK_INSTANCE", "").strip()
    if chosen:
        return str(Path(chosen).resolve())
    if (project_root / "pyproject.toml").is_file():
        return str(project_root / "instance")
    # Flask's default for an installed package: PREFIX/var/webapp-instance, in the virtual environment.
    return None


def engine_options(url: str) -> dict:
    """The connection pool, and on PostgreSQL how long one statement may run (`0`: the server's own limit)."""
    pool = {
        "pool_size": positive_int("DB_POOL_SIZE", 5),
        "max_overflow": non_negative_int("DB_MAX_OVERFLOW", 10),
        "pool_recycle": positive_int("DB_POOL_RECYCLE", 1800),
        # A server may drop idle connections: each is checked before it is handed out again.
        "pool_pre_ping": True,
    }
    statement_timeout = non_negative_int("DB_STATEMENT_TIMEOUT_MS", 15_000)
    # Read above whatever the database, so that a bad value is refused on a laptop too.
    if url.startswith("sqlite"):
        # A file has no server to pool connections for or to lose them.
        return {}
    if url.startswith("postgresql"):
        # psycopg prepares a statement run five times, and PostgreSQL then plans it once for any
        # values. The desk's data is skewed (a day's rollups against a quarter's, a rare word
        # against a common one), and such a plan made the stats page's slowest statement six
        # times slower: each statement is planned for its own values instead.
        options = ["-c plan_cache_mode=force_custom_plan"]
        if statement_timeout:
            # One slow query is cancelled rather than holding a worker past gunicorn's timeout.
            options.append(f"-c statement_timeout={statement_timeout}")
        pool["connect_args"] = {"options": " ".join(options)}
    return pool


def database_url(instance_path: str) -> str:
    """`DATABASE_URL`, or a SQLite file in the instance folder."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "copydesk.db")
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy needs the driver named.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def jobs_url(database: str, instance_path: str) -> str:
    """`JOBS_URL` (redis://... or sqlite:///PATH); else a SQLite file beside the app's SQLite database,
    or in the instance folder."""
    url = os.environ.get("JOBS_URL", "").strip()
    if url:
        if not url.startswith(JOBS_URL_SCHEMES):
            schemes = ", ".join(JOBS_URL_SCHEMES)
            raise ConfigError(f"JOBS_URL must start with one of {schemes}; got {url!r}")
        return url
    if database.startswith("sqlite:///") and not database.endswith(":memory:"):
        path = Path(database.removeprefix("sqlite:///"))
        return f"sqlite:///{path.with_name(path.stem + '-jobs.sqlite')}"
    return f"sqlite:///{Path(instance_path) / 'jobs.sqlite'}"


def secret_key(instance_path: str, production: bool) -> str:
    """`SECRET_KEY`; in development one is generated once and kept in the instance folder."""
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    if production:
        raise ConfigError("SECRET_KEY must be set when COPYDESK_ENV=production")
    return _instance_secret(Path(instance_path) / "secret_key")


def _instance_secret(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        draft.write_text(secrets.token_hex(32))
        draft.chmod(0o600)
        try:
            # link() fails if another process won the race: everyone then reads its key.
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def positive_int(name: str, default: int) -> int:
    """An environment variable holding a whole number above zero."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    value = _whole_number(name, raw)
    if value <= 0:
        raise ConfigError(f"{name} must be above zero, got {value}")
    return value


def non_negative_int(name: str, default: int) -> int:
    """An environment variable holding a whole number, zero or above."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    value = _whole_number(name, raw)
    if value < 0:
        raise ConfigError(f"{name} must be zero or above, got {value}")
    return value


def _whole_number(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


FLAG_VALUES = {
    "1": True,
    "true": True,
    "yes": True,
    "on": True,
    "0": False,
    "false": False,
    "no": False,
    "off": False,
}


def flag(name: str, default: bool) -> bool:
    """An environment variable holding yes or no: 1/0, true/false, yes/no, on/off."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in FLAG_VALUES:
        raise ConfigError(f"{name} must be 1 or 0 (or true/false, yes/no, on/off), got {raw!r}")
    return FLAG_VALUES[raw]


def rate_limit(name: str, default: str) -> str:
    """An environment variable holding rate limits such as "10 per minute; 100 per hour"."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        parse_many(raw)
    except ValueError:
        raise ConfigError(f"{name} must be limits like {default!r}, got {raw!r}") from None
    return raw


def reject_reasons(name: str, default: str) -> tuple[str, ...]:
    """An environment variable holding the listed reject reasons, separated by semicolons."""
    raw = os.environ.get(name, "").strip() or default
    reasons = tuple(reason.strip() for reason in raw.split(";") if reason.strip())
    if len(reasons) > MAX_REJECT_REASONS:
        raise ConfigError(f"{name} lists {len(reasons)} reasons; at most {MAX_REJECT_REASONS} (keys 1 to 9)")
    for reason in reasons:
        if len(reason) > MAX_REJECT_REASON_LENGTH:
            raise ConfigError(
                f"{name}: {reason[:40]!r}… is longer than {MAX_REJECT_REASON_LENGTH} characters"
            )
    if len(set(reasons)) < len(reasons):
        raise ConfigError(f"{name} lists a reason twice: {raw!r}")
    return reasons


def choice(name: str, allowed: tuple[str, ...], default: str | None) -> str | None:
    """An environment variable holding one of `allowed` (in any case)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    for value in allowed:
        if raw.lower() == value.lower():
            return value
    raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")


def token(name: str, min_length: int) -> str | None:
    """An environment variable holding a secret token, long enough not to be guessed."""
    raw = os.environ.get(name, "").strip()
    if raw and len(raw) < min_length:
        raise ConfigError(f"{name} must be at least {min_length} characters long")
    return raw or None


def networks(name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """An environment variable holding addresses and networks, separated by commas: "10.0.0.0/8, ::1"."""
    raw = os.environ.get(name, "")
    found = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            found.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(
                f"{name}: {item!r} is not an IP address or network such as 10.0.0.0/8"
            ) from None
    return tuple(found)
