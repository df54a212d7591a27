"""Issue 42: a photo keeps its size unless it is larger than the default limit; the bundled paintings by name."""
import numpy as np
import pytest
import torch
from PIL import Image

from multistyle import AdaIN, FastStyle, Gatys, InputError, samples
from multistyle.image.io import DEFAULT_LONG_SIDE, output_size
from multistyle.video.stylize import VideoConfig, frame_size

SMALL = (97, 130)  # (width, height), sides divisible by neither 4 nor 8


def photo(width: int, height: int) -> Image.Image:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width]
    array = np.stack([x / width, y / height, 0.5 + 0.2 * np.sin(x / 7.0)], -1) * 200 + rng.integers(0, 40, (height, width, 3))
    return Image.fromarray(array.clip(0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def adain():
    return AdaIN.from_pretrained()


def test_output_size_rule():
    assert output_size(130, 97, None) == (130, 97)
    assert output_size(512, 300, None) == (512, 300)
    assert output_size(1500, 2000, None) == (384, 512)
    assert output_size(130, 97, 0) == (130, 97) and output_size(1500, 2000, 0) == (1500, 2000)
    assert output_size(130, 97, 260) == (260, 194)  # an explicit size is obeyed, enlarging too


def test_adain_keeps_a_small_photo_and_shrinks_a_large_one(adain):
    assert adain(photo(*SMALL), "starry_night").image.size == SMALL
    assert adain(photo(2000, 1500), "wave").image.size == (DEFAULT_LONG_SIDE, 384)
    assert adain(photo(*SMALL), "wave", size=0).image.size == SMALL
    assert adain(photo(*SMALL), "wave", size=64).image.size == (48, 64)


def test_gatys_keeps_a_small_photo():
    assert Gatys(steps=2)(photo(*SMALL), "the_scream").image.size == SMALL
    assert Gatys(steps=1, scales=2)(photo(*SMALL), "the_scream").image.size == SMALL


def test_every_per_style_network_keeps_a_small_photo():
    for name in FastStyle.styles():
        model = FastStyle.from_pretrained(name)
        assert model(photo(*SMALL)).image.size == SMALL, name
    assert model(photo(2000, 1500)).image.size == (DEFAULT_LONG_SIDE, 384)


def test_video_frames_follow_the_same_rule():
    assert VideoConfig().size is None
    assert frame_size(torch.zeros(1, 3, 130, 97), None) == (130, 97)
    assert frame_size(torch.zeros(1, 3, 436, 1024), None) == (218, 512)
    assert frame_size(torch.zeros(1, 3, 436, 1024), 0) == (436, 1024)
    assert frame_size(torch.zeros(1, 3, 436, 1024), 512) == (218, 512)  # an explicit size is the long side, as for images


def test_the_seven_paintings_ship_with_their_sources():
    names = samples.paintings()
    assert sorted(names) == sorted(["wave", "starry_night", "the_scream", "shipwreck", "composition_vii", "udnie", "woman_with_hat"])
    for name in names:
        with Image.open(samples.painting(name)) as image:
            assert max(image.size) == 512
    assert samples.title("starry_night") == "The Starry Night (Vincent van Gogh, 1889)"


def test_a_painting_by_name_is_its_file(adain):
    by_name = adain(photo(*SMALL), "udnie").tensor
    by_file = adain(photo(*SMALL), samples.painting("udnie")).tensor
    assert torch.equal(by_name, by_file)
    with pytest.raises(InputError, match="not a bundled painting.*starry_night"):
        adain(photo(*SMALL), "starry_nite")
    with pytest.raises(InputError, match="missing.jpg: file not found"):
        adain(photo(*SMALL), "missing.jpg")


def test_cli_takes_a_name_and_prefers_an_existing_file(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    photo(*SMALL).save("photo.png")
    code, out, err = cli("image", "adain", "photo.png", "starry_night", "-o", "named.png", "--quiet")
    assert code == 0, err
    assert Image.open("named.png").size == SMALL
    Image.new("RGB", (64, 64), (255, 0, 0)).save("starry_night", format="PNG")  # a file named like a painting wins
    code, out, err = cli("image", "adain", "photo.png", "starry_night", "-o", "file.png", "--quiet")
    assert code == 0, err
    red = np.asarray(Image.open("file.png"), dtype=float).mean((0, 1))
    assert red[0] > red[1] + 50 and red[0] > red[2] + 50
    code, out, err = cli("image", "adain", "photo.png", "starry_nite", "-o", "bad.png", "--quiet")
    assert code == 2 and err.count("error:") == 1 and "woman_with_hat" in err


def test_labelled_grid_lays_out_images_and_captions():
    from multistyle.image.figure import labelled_grid

    grid = labelled_grid([(torch.rand(1, 3, 30, 60), "a wide one"), (None, "a caption alone"), (torch.rand(1, 3, 60, 30), "a tall one")],
                         columns=2, height=50, title="title")
    assert grid.shape[:2] == (1, 3) and grid.shape[-1] > 2 * 100 and grid.shape[-2] > 2 * 50
    assert grid[..., -5:, -5:].min() == 1  # white background


def test_styles_sheet_shows_each_networks_painting_beside_its_result(cli, tmp_path):
    from multistyle.image.fast import model_info, shipped_styles
    from multistyle.image.figure import network_painting

    found = shipped_styles()
    assert network_painting("wave_small", model_info(found["wave_small"])) == samples.painting("wave")
    assert network_painting("udnie", model_info(found["udnie"])) == samples.painting("udnie")
    matisse = {"style": "../shared/data/images/style/woman-with-hat-matisse.jpg"}  # a style file named otherwise
    assert network_painting("matisse_net", matisse) == samples.painting("woman_with_hat")
    assert network_painting("candy", {"style": "../shared/data/images/style/candy.jpg"}) is None  # not a bundled painting
    code, out, err = cli("image", "styles", "--sheet", tmp_path / "sheet.png")
    assert code == 0, err
    with Image.open(tmp_path / "sheet.png") as sheet:
        assert sheet.width > sheet.height  # four columns: painting, result, painting, result


def test_demo_text_line_follows_its_rule():
    from multistyle.demo import TEXT_RULE, review_sentences, text_demo

    line = text_demo()
    assert TEXT_RULE in line and "->" in line
    number = int(line.split("(sentence ", 1)[1].split(",", 1)[0])
    assert line.startswith(f"text: {review_sentences()[number - 1]!r} -> ")
