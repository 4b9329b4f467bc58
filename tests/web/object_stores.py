"""An object store of the test's own: a temporary data folder (and storage choice and limits) for
the tests of buckets and objects, the storage chosen again for it and after it."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.test import override_settings

from editor.services import object_store


class TemporaryObjectStore:
    """Call use_temporary_store(**settings) in setUp; returns the data folder."""

    def use_temporary_store(self, **settings) -> Path:
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        data = Path(folder.name)
        overridden = override_settings(DATA_DIR=data, **settings)
        overridden.enable()
        self.addCleanup(overridden.disable)
        object_store.storage.cache_clear()
        self.addCleanup(object_store.storage.cache_clear)
        return data
