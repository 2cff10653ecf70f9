"""Reading deploy/config/notify.yaml (or the file HUIYIN_NOTIFY_CONFIG names)."""

from pathlib import Path

import yaml

from services.notify.domain.config import NotifyConfig

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[3] / "deploy" / "config" / "notify.yaml"


def load_config(path: Path) -> NotifyConfig:
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return NotifyConfig.model_validate(document)
