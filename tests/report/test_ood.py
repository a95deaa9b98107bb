import pytest

from vae_atlas.data import DataError
from vae_atlas.report.ood import load_ood


def test_missing_idx_set_advises_flags_that_report_accepts(tmp_path):
    with pytest.raises(DataError) as info:
        load_ood("fashion-mnist", (1, 28, 28), data_dir=str(tmp_path / "mnist"))
    message = str(info.value)
    assert "--ood fashion-mnist:FOLDER" in message
    assert "--download" not in message and "--data-dir" not in message and "\n" not in message


def test_missing_folder_after_the_colon_is_named(tmp_path):
    with pytest.raises(DataError, match="nowhere"):
        load_ood(f"mnist:{tmp_path / 'nowhere'}", (1, 28, 28))


@pytest.mark.mnist
def test_name_colon_folder_loads_the_idx_files_from_that_folder(mnist_dir):
    name, images = load_ood(f"mnist:{mnist_dir}", (1, 28, 28))
    assert name == "mnist"
    assert len(images) == 2000 and tuple(images.images.shape[1:]) == (1, 28, 28)
