"""Print the model-limits table of docs/operator.md from ``airflow_provider_seedance.contract.limits``
(tests keep them equal)."""

from __future__ import annotations

from airflow_provider_seedance.contract.limits import MODEL_LIMITS, ModelLimits


def _durations(limits: ModelLimits) -> str:
    if limits.duration_choices:
        return " or ".join(str(c) for c in limits.duration_choices)
    return f"{limits.min_duration}-{limits.max_duration}"


def _inputs(limits: ModelLimits) -> str:
    parts = []
    if "text" in limits.modes:
        parts.append("text")
    if "image" in limits.modes:
        parts.append("image (first + last frame)" if limits.max_frame_images > 1 else "image (first frame)")
    if "reference" in limits.modes:
        parts.append(f"reference (≤{limits.max_ref_images} img, ≤{limits.max_videos} vid, ≤{limits.max_audios} aud)")
    return ", ".join(parts)


def model_table() -> str:
    rows = [
        "| backend | model | modes | duration (s) | quality | aspect ratios | optional fields | drafts | source |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (backend, model), limits in MODEL_LIMITS.items():
        ratios = ", ".join(limits.aspect_ratios) if "aspect_ratio" in limits.fields else "—"
        if limits.image_mode_ratios and "aspect_ratio" in limits.fields:
            ratios += " (image mode adds keep_ratio, adaptive)"
        fields = ", ".join(
            sorted(limits.fields - {"duration", "quality", "aspect_ratio", "image_urls", "video_urls", "audio_urls"})
        )
        rows.append(
            f"| {backend} | `{model}` | {_inputs(limits)} | {_durations(limits)} | {', '.join(limits.qualities)} "
            f"| {ratios} | {fields or '—'} | {'yes' if limits.drafts else 'no'} | {limits.source} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    print(model_table())
