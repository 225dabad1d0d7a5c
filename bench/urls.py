"""The portal's URLs plus the two baselines every figure is compared with."""

from django.urls import path

from bench import baseline
from waportal.urls import urlpatterns as portal

urlpatterns = [
    path("bench/noop/", baseline.noop),
    path("bench/insert/", baseline.insert),
    *portal,
]
