"""nodegrad's neural-network library: Module and Parameter, layers, losses, initializers, checkpoints, data
loading, and data-parallel training over MPI (distributed, parallel).

>>> import numpy as np, nn
>>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
>>> loss = nn.CrossEntropyLoss()(net(np.ones((2, 4), np.float32)), np.array([0, 2]))
>>> loss.backward(); [name for name, p in net.named_parameters() if p.grad is not None]
['0.weight', '0.bias', '2.weight', '2.bias']
"""

from nn import data, datasets, distributed, functional, init, parallel, utils
from nn.activation import ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
from nn.attention import MultiheadAttention
from nn.conv import AdaptiveAvgPool2d, AvgPool2d, Conv1d, Conv2d, MaxPool2d
from nn.linear import Flatten, Identity, Linear
from nn.losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, MultiMarginLoss, NLLLoss
from nn.module import IncompatibleKeys, Module, ModuleList, Parameter, RemovableHandle, Sequential
from nn.monitor import Monitor
from nn.norm import BatchNorm1d, BatchNorm2d, Dropout, LayerNorm
from nn.scopes import record_scopes
from nn.serialization import load, save
from nn.sparse import Embedding

__all__ = [
    "IncompatibleKeys",
    "Module",
    "ModuleList",
    "Parameter",
    "RemovableHandle",
    "Sequential",
    "data",
    "datasets",
    "distributed",
    "functional",
    "init",
    "parallel",
    "utils",
    "ELU",
    "GELU",
    "SiLU",
    "Softplus",
    "LayerNorm",
    "Embedding",
    "LeakyReLU",
    "LogSoftmax",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "load",
    "save",
    "AdaptiveAvgPool2d",
    "AvgPool2d",
    "Conv1d",
    "Conv2d",
    "MaxPool2d",
    "Flatten",
    "Identity",
    "Linear",
    "MultiheadAttention",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "MSELoss",
    "MultiMarginLoss",
    "NLLLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Dropout",
    "record_scopes",
    "Monitor",
]
