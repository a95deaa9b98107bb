"""Settings chosen from a folder's images: hand-computed cases."""

from __future__ import annotations

from PIL import Image

from vae_atlas.data.survey import FolderSurvey, suggest_settings, survey_folder


def chosen(survey: FolderSurvey, **given) -> dict[str, object]:
    return {s.field: s.value for s in suggest_settings(survey, **given)}


def test_two_hundred_colour_photos_get_a_conv_model_and_many_small_batches():
    got = chosen(FolderSurvey(n_images=200, colour=True, short_side=480))
    # 160 training images: batch 16 -> 10 steps an epoch -> 300 epochs for ~3000 steps
    assert got == {
        "data.channels": 3,
        "data.image_size": 64,
        "model.family": "conv",
        "train.batch_size": 16,
        "train.epochs": 300,
    }


def test_a_large_set_of_small_grey_digits_keeps_the_mlp():
    got = chosen(FolderSurvey(n_images=60_000, colour=False, short_side=28))
    # 48,000 training images / 128 = 375 steps an epoch; 3000 / 375 = 8, raised to 10 epochs
    assert got == {
        "data.channels": 1,
        "data.image_size": 28,
        "model.family": "mlp",
        "train.batch_size": 128,
        "train.epochs": 10,
    }


def test_grey_images_of_forty_pixels_are_cropped_to_32_for_a_conv_model():
    got = chosen(FolderSurvey(n_images=1000, colour=False, short_side=40))
    assert got["data.image_size"] == 32 and got["model.family"] == "conv"


def test_tiny_images_use_their_own_size_and_an_mlp():
    got = chosen(FolderSurvey(n_images=1000, colour=True, short_side=12))
    assert got["data.image_size"] == 12 and got["model.family"] == "mlp"


def test_given_settings_are_kept_and_shape_the_others():
    got = chosen(
        FolderSurvey(n_images=200, colour=True, short_side=480),
        image_size=48,
        batch_size=32,
    )
    assert "data.image_size" not in got and "train.batch_size" not in got
    assert got["model.family"] == "mlp"  # 48 px is not a conv size
    assert got["train.epochs"] == 300  # 160 / 32 = 5 steps an epoch; 600 capped at 300
    assert (
        chosen(FolderSurvey(n_images=200, colour=True, short_side=480), family="mlp").get(
            "model.family"
        )
        is None
    )


def test_survey_reads_colour_and_median_size(tmp_path):
    for i, side in enumerate((30, 40, 50)):
        Image.new("L", (side, side + 10), 128).save(tmp_path / f"g{i}.png")
    Image.new("RGB", (100, 40), (1, 2, 3)).save(tmp_path / "c.png")
    survey = survey_folder(tmp_path)
    assert survey == FolderSurvey(n_images=4, colour=True, short_side=40)  # median of 30,40,40,50
    (tmp_path / "c.png").unlink()
    assert survey_folder(tmp_path).colour is False
