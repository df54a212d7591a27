import torch

from multistyle.core.losses import channel_mean_std, content_loss, gram_loss, gram_matrix, mean_std_loss, total_variation


def test_gram_matches_direct_formula():
    f = torch.randn(2, 3, 4, 5)
    g = gram_matrix(f)
    for b in range(2):
        for i in range(3):
            for j in range(3):
                direct = (f[b, i] * f[b, j]).sum() / (3 * 4 * 5)
                assert torch.allclose(g[b, i, j], direct, atol=1e-6)


def test_gram_loss_is_mse_of_grams_and_zero_at_target():
    f, t = torch.randn(1, 4, 6, 6), torch.randn(1, 4, 6, 6)
    assert torch.allclose(gram_loss(f, gram_matrix(t)), ((gram_matrix(f) - gram_matrix(t)) ** 2).mean())
    assert gram_loss(t, gram_matrix(t)) == 0


def test_content_loss_is_mean_squared_error():
    a, b = torch.randn(1, 2, 3, 3), torch.randn(1, 2, 3, 3)
    assert torch.allclose(content_loss(a, b), ((a - b) ** 2).mean())


def test_mean_std_loss_direct():
    a, b = torch.randn(1, 3, 8, 8) * 2 + 1, torch.randn(1, 3, 8, 8)
    mean_a, std_a = a.flatten(2).mean(-1), a.flatten(2).std(-1, unbiased=False)
    mean_b, std_b = b.flatten(2).mean(-1), b.flatten(2).std(-1, unbiased=False)
    direct = ((mean_a - mean_b) ** 2).mean() + ((std_a - std_b) ** 2).mean()
    assert torch.allclose(mean_std_loss(a, b), direct, atol=1e-4)
    m, s = channel_mean_std(a)
    assert torch.allclose(m, mean_a) and torch.allclose(s, std_a, atol=1e-4)


def test_total_variation_direct():
    x = torch.tensor([[[[0.0, 1.0], [3.0, 5.0]]]])
    # horizontal |1-0|, |5-3| -> mean 1.5; vertical |3-0|, |5-1| -> mean 3.5
    assert torch.isclose(total_variation(x), torch.tensor(5.0))
    assert total_variation(torch.ones(1, 3, 4, 4)) == 0
