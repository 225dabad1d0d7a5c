"""Static files for the bench: production's storage, minus one thing that stops ``collectstatic``.

``analytics/static/analytics/vendor/chart.umd.min.js`` ends with
``//# sourceMappingURL=chart.umd.min.js.map`` and the map is not shipped, so
the manifest storage's post-processing refuses the file and ``collectstatic``
fails under production settings. Until the vendored file is fixed (drop the
comment or ship the map), the bench hashes and compresses everything as
production does but leaves JavaScript source-map comments alone.
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class BenchStaticFilesStorage(CompressedManifestStaticFilesStorage):
    patterns = tuple(
        (extension, tuple(p for p in patterns if "sourceMappingURL" not in str(p)))
        if extension == "*.js" else (extension, patterns)
        for extension, patterns in CompressedManifestStaticFilesStorage.patterns
    )
