"""physai.vision.ImageNoise: lighting and camera noise on uint8 images, and its settings refused by name."""

import numpy as np
import pytest

from physai.errors import FieldError
from physai.vision import ImageError, ImageNoise


def grey(level: int = 128, shape: tuple[int, ...] = (120, 160, 3)) -> np.ndarray:
    return np.full(shape, level, np.uint8)


def test_no_noise_leaves_the_image_as_it_is_and_draws_nothing():
    rng = np.random.default_rng(0)
    image = grey()
    assert ImageNoise.parse("").apply(image, rng) is image and not ImageNoise().enabled
    assert rng.random() == np.random.default_rng(0).random()  # the stream is untouched: episodes stay the same


def test_brightness_scales_the_pixels_within_its_range():
    rng = np.random.default_rng(1)
    noise = ImageNoise.parse("brightness=0.5:1.5")
    means = [noise.apply(grey(100), rng).mean() for _ in range(200)]
    assert 50 <= min(means) < 60 and 140 < max(means) <= 150  # uniform gains over 0.5–1.5
    assert ImageNoise.parse("brightness=2").apply(grey(200), rng).max() == 255  # saturates, never wraps


def test_sensor_noise_has_the_asked_spread_and_no_bias():
    out = ImageNoise.parse("noise=8").apply(grey(128), np.random.default_rng(2)).astype(float)
    assert out.std() == pytest.approx(8.0, rel=0.05) and out.mean() == pytest.approx(128.0, abs=0.2)


def test_blur_takes_out_fine_detail():
    checker = (np.indices((120, 160)).sum(axis=0) % 2 * 255).astype(np.uint8)  # 1-pixel checkerboard, mono8
    out = ImageNoise.parse("blur=1.5").apply(checker, np.random.default_rng(3))
    assert out.shape == checker.shape and out.dtype == np.uint8
    assert out.std() < 0.1 * checker.std() and out.mean() == pytest.approx(127.5, abs=1.0)


def test_the_same_seed_gives_the_same_image():
    noise = ImageNoise.parse("brightness=0.7:1.3,blur=0:1,noise=4")
    first = noise.apply(grey(), np.random.default_rng(7))
    assert np.array_equal(first, noise.apply(grey(), np.random.default_rng(7)))
    assert not np.array_equal(first, noise.apply(grey(), np.random.default_rng(8)))


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ("blur=5:1", "blur LOW:HIGH with 0 ≤ LOW ≤ HIGH ≤ 10"),
        ("brightness=0:1", "brightness LOW:HIGH with 0.05"),
        ("noise=1:2", "noise STD"),
        ("noise=-1", "noise a std of 0–64 grey levels"),
        ("glare=1", "setting one of brightness=, blur=, noise="),
        ("brightness=dim", "brightness LO:HI"),
        ("blur=nan:1", "blur LOW:HIGH"),
    ],
)
def test_a_bad_setting_is_refused_naming_the_option_and_the_setting(spec, named):
    with pytest.raises(FieldError) as err:
        ImageNoise.parse(spec, "camera_noise")
    assert err.value.field == "camera_noise" and err.value.value == spec
    assert named in err.value.expected and "brightness=LO:HI,blur=LO:HI,noise=STD" in err.value.expected


def test_an_image_that_is_not_uint8_is_refused():
    with pytest.raises(ImageError, match="uint8"):
        ImageNoise.parse("noise=2").apply(np.zeros((4, 4, 3)), np.random.default_rng(0))
