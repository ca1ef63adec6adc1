import Attention
