def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200
