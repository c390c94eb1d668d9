"""storage.artifacts_url / artifacts_options: an S3 URL or nothing, and options kept out of repr."""

from __future__ import annotations

import pytest

from ff_class_configs import load_config
from ff_utils.ff_errors import FFConfigError


@pytest.mark.parametrize("url", ["/srv/backups", "file:///srv/backups", "s3://", "gs://bucket/x", "bucket/prefix"])
def test_anything_but_an_s3_url_is_refused_with_one_line(url: str) -> None:
    with pytest.raises(FFConfigError) as caught:
        load_config(environ={}, overrides={"storage": {"artifacts_url": url}})
    assert "artifacts_url" in str(caught.value) and "\n" not in str(caught.value)


def test_an_s3_url_is_kept_without_its_trailing_slash_and_empty_means_unset() -> None:
    assert load_config(environ={}, overrides={"storage": {"artifacts_url": "s3://b/p/"}}).storage.artifacts_url == "s3://b/p"
    assert load_config(environ={"FF_STORAGE__ARTIFACTS_URL": "s3://b"}).storage.artifacts_url == "s3://b"
    assert load_config(environ={}, overrides={"storage": {"artifacts_url": ""}}).storage.artifacts_url is None


def test_the_options_never_show_in_the_config_repr() -> None:
    config = load_config(environ={}, overrides={"storage": {"artifacts_url": "s3://b", "artifacts_options": {"secret": "hunter2-xyz"}}})
    assert "hunter2-xyz" not in repr(config.storage) and "hunter2-xyz" not in repr(config)
