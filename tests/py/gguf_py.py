"""gguf_py.py - a small GGUF v3 reader and writer in numpy, written from the
format's specification and independent of llmos's C code. The tests use it to
make model files (gen_model.py), to read them for the float64 reference
(ref_llama.py) and to build damaged files (t_gguf_bad.sh).

Format (little-endian):
  u32 magic "GGUF", u32 version, u64 n_tensors, u64 n_kv
  n_kv    x { str key, u32 value_type, value }
  n_tensors x { str name, u32 n_dims, u64 ne[n_dims], u32 type, u64 offset }
  zero padding to the alignment (general.alignment, default 32)
  tensor data, each tensor at data_start + offset; every tensor is followed
  by zero padding up to the alignment.
  str = u64 length + bytes. Array = u32 elem_type, u64 count, elements.

Tensor element types and block layouts, as ggml defines them:
  F32 (0), F16 (1), Q4_0 (2): blocks of 32 = f16 scale d + 16 bytes, element
  j < 16 in the low nibble of byte j, element j + 16 in its high nibble,
  value (q - 8) * d; Q8_0 (8): blocks of 32 = f16 scale d + 32 int8, value
  q * d; BF16 (30): the upper 16 bits of an f32, rounded to nearest even.
"""
import struct

import numpy as np

GGUF_MAGIC = 0x46554747

# metadata value types
U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
_SCALAR = {U8: '<B', I8: '<b', U16: '<H', I16: '<h', U32: '<I', I32: '<i',
           F32: '<f', BOOL: '<?', U64: '<Q', I64: '<q', F64: '<d'}
_NP = {U8: '<u1', I8: '<i1', U16: '<u2', I16: '<i2', U32: '<u4', I32: '<i4',
       F32: '<f4', BOOL: '<u1', U64: '<u8', I64: '<i8', F64: '<f8'}

# tensor types
T_F32, T_F16, T_Q4_0, T_Q8_0, T_BF16 = 0, 1, 2, 8, 30
TYPE_IDS = {'f32': T_F32, 'f16': T_F16, 'q4_0': T_Q4_0, 'q8_0': T_Q8_0, 'bf16': T_BF16}
# (elements per block, bytes per block)
BLOCK = {T_F32: (1, 4), T_F16: (1, 2), T_BF16: (1, 2), T_Q8_0: (32, 34), T_Q4_0: (32, 18)}


def tensor_nbytes(ttype, ne):
    bs, bb = BLOCK[ttype]
    n = 1
    for d in ne:
        n *= int(d)
    assert ne[0] % bs == 0
    return n // bs * bb


# ---------------------------------------------------------------------------
# Reading

class GGUFError(Exception):
    pass


class Reader:
    """Parses a whole GGUF file held in memory. kv: dict key -> (type, value)
    in file order, where an array's value is (elem_type, list or ndarray).
    tensors: list of dicts with name, ne (list, ne[0] fastest), type,
    offset, data (bytes)."""

    def __init__(self, path_or_bytes):
        if isinstance(path_or_bytes, (bytes, bytearray)):
            self.buf = bytes(path_or_bytes)
        else:
            with open(path_or_bytes, 'rb') as f:
                self.buf = f.read()
        self.pos = 0
        self._parse()

    def _take(self, n):
        if n < 0 or self.pos + n > len(self.buf):
            raise GGUFError('truncated at offset %d (need %d bytes)' % (self.pos, n))
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def _scalar(self, t):
        fmt = _SCALAR[t]
        return struct.unpack(fmt, self._take(struct.calcsize(fmt)))[0]

    def _str(self):
        n = self._scalar(U64)
        return self._take(n).decode('utf-8', errors='surrogateescape')

    def _value(self, t):
        if t == STRING:
            return self._str()
        if t == ARRAY:
            et = self._scalar(U32)
            n = self._scalar(U64)
            if et == STRING:
                return (et, [self._str() for _ in range(n)])
            if et not in _NP:
                raise GGUFError('bad array element type %d' % et)
            size = np.dtype(_NP[et]).itemsize
            return (et, np.frombuffer(self._take(n * size), dtype=_NP[et]).copy())
        if t not in _SCALAR:
            raise GGUFError('bad value type %d' % t)
        return self._scalar(t)

    def _parse(self):
        magic = self._scalar(U32)
        if magic != GGUF_MAGIC:
            raise GGUFError('bad magic')
        self.version = self._scalar(U32)
        if self.version not in (2, 3):
            raise GGUFError('bad version %d' % self.version)
        n_tensors = self._scalar(U64)
        n_kv = self._scalar(U64)
        self.kv = {}
        for _ in range(n_kv):
            key = self._str()
            t = self._scalar(U32)
            self.kv[key] = (t, self._value(t))
        self.alignment = self.kv.get('general.alignment', (U32, 32))[1]
        self.tensors = []
        for _ in range(n_tensors):
            name = self._str()
            nd = self._scalar(U32)
            ne = [self._scalar(U64) for _ in range(nd)]
            tt = self._scalar(U32)
            off = self._scalar(U64)
            self.tensors.append(dict(name=name, ne=ne, type=tt, offset=off))
        a = self.alignment
        self.data_offset = (self.pos + a - 1) // a * a
        for t in self.tensors:
            start = self.data_offset + t['offset']
            n = tensor_nbytes(t['type'], t['ne'])
            if start + n > len(self.buf):
                raise GGUFError('tensor %s past end of file' % t['name'])
            t['data'] = self.buf[start:start + n]

    def get(self, key, default=None):
        return self.kv[key][1] if key in self.kv else default

    def tensor(self, name):
        for t in self.tensors:
            if t['name'] == name:
                return t
        return None

    def tensor_f64(self, name):
        """Dequantized tensor as float64, numpy shape reversed from ne
        (a weight with ne = (in, out) comes back as (out, in))."""
        t = self.tensor(name)
        if t is None:
            return None
        flat = dequantize(t['type'], t['data'], int(np.prod(t['ne'])))
        return flat.reshape(list(reversed(t['ne'])))


# ---------------------------------------------------------------------------
# Writing

def _enc_str(s):
    b = s.encode('utf-8', errors='surrogateescape') if isinstance(s, str) else bytes(s)
    return struct.pack('<Q', len(b)) + b


def _enc_value(t, v):
    if t == STRING:
        return _enc_str(v)
    if t == ARRAY:
        et, items = v
        out = struct.pack('<IQ', et, len(items))
        if et == STRING:
            return out + b''.join(_enc_str(s) for s in items)
        return out + np.asarray(items).astype(_NP[et]).tobytes()
    return struct.pack(_SCALAR[t], v)


def write(path, kv, tensors, alignment=None, version=3):
    """kv: list of (key, type, value) in order. tensors: list of (name,
    type, ne, data bytes). Writes the whole file; returns its bytes."""
    a = alignment
    if a is None:
        a = 32
        for k, t, v in kv:
            if k == 'general.alignment':
                a = v
    out = [struct.pack('<IIQQ', GGUF_MAGIC, version, len(tensors), len(kv))]
    for k, t, v in kv:
        out.append(_enc_str(k) + struct.pack('<I', t) + _enc_value(t, v))
    off = 0
    for name, tt, ne, data in tensors:
        assert len(data) == tensor_nbytes(tt, ne), name
        out.append(_enc_str(name) + struct.pack('<I', len(ne)))
        out.append(b''.join(struct.pack('<Q', d) for d in ne))
        out.append(struct.pack('<IQ', tt, off))
        off += (len(data) + a - 1) // a * a
    head = b''.join(out)
    head += b'\0' * ((a - len(head) % a) % a)
    body = []
    for name, tt, ne, data in tensors:
        body.append(data + b'\0' * ((a - len(data) % a) % a))
    blob = head + b''.join(body)
    if path is not None:
        with open(path, 'wb') as f:
            f.write(blob)
    return blob


# ---------------------------------------------------------------------------
# Element types: quantizers follow ggml's reference (scalar) code paths.

def _round_away(x):
    """C roundf: halves away from zero."""
    return np.sign(x) * np.floor(np.abs(x) + np.float32(0.5))


def f32_to_bf16_bits(x):
    u = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    r = ((u + (0x7fff + ((u >> 16) & 1))) >> 16).astype(np.uint16)
    nan = (u & 0x7fffffff) > 0x7f800000
    r[nan] = ((u[nan] >> 16) | 64).astype(np.uint16)
    return r


def quantize(ttype, x):
    """x: float array (any shape, last axis = ne[0]); returns bytes.
    Values past the f16 range become infinities, as in C."""
    with np.errstate(over='ignore'):
        return _quantize(ttype, x)


def _quantize(ttype, x):
    x = np.ascontiguousarray(x, dtype=np.float32).reshape(-1)
    if ttype == T_F32:
        return x.astype('<f4').tobytes()
    if ttype == T_F16:
        return x.astype('<f2').tobytes()
    if ttype == T_BF16:
        return f32_to_bf16_bits(x).astype('<u2').tobytes()
    blocks = x.reshape(-1, 32)
    nb = blocks.shape[0]
    if ttype == T_Q8_0:
        amax = np.abs(blocks).max(axis=1)
        d = (amax / np.float32(127)).astype(np.float32)
        with np.errstate(divide='ignore'):
            idv = np.where(d != 0, np.float32(1) / d, np.float32(0)).astype(np.float32)
        q = _round_away((blocks * idv[:, None]).astype(np.float32)).astype(np.int8)
        out = np.zeros(nb, dtype=[('d', '<f2'), ('qs', 'i1', 32)])
        out['d'] = d.astype(np.float16)
        out['qs'] = q
        return out.tobytes()
    if ttype == T_Q4_0:
        idx = np.abs(blocks).argmax(axis=1)  # first element of largest magnitude
        mx = blocks[np.arange(nb), idx]
        d = (mx / np.float32(-8)).astype(np.float32)
        with np.errstate(divide='ignore'):
            idv = np.where(d != 0, np.float32(1) / d, np.float32(0)).astype(np.float32)
        v = (blocks * idv[:, None]).astype(np.float32) + np.float32(8.5)
        q = np.minimum(np.trunc(v), 15).astype(np.uint8)
        out = np.zeros(nb, dtype=[('d', '<f2'), ('qs', 'u1', 16)])
        out['d'] = d.astype(np.float16)
        out['qs'] = q[:, :16] | (q[:, 16:] << 4)
        return out.tobytes()
    raise ValueError('unknown tensor type %d' % ttype)


def dequantize(ttype, data, n):
    """Returns n float64 values from raw tensor bytes."""
    if ttype == T_F32:
        return np.frombuffer(data, dtype='<f4', count=n).astype(np.float64)
    if ttype == T_F16:
        return np.frombuffer(data, dtype='<f2', count=n).astype(np.float64)
    if ttype == T_BF16:
        u = np.frombuffer(data, dtype='<u2', count=n).astype(np.uint32) << 16
        return u.view(np.float32).astype(np.float64)
    if ttype == T_Q8_0:
        b = np.frombuffer(data, dtype=[('d', '<f2'), ('qs', 'i1', 32)], count=n // 32)
        return (b['qs'].astype(np.float64) * b['d'].astype(np.float64)[:, None]).reshape(-1)
    if ttype == T_Q4_0:
        b = np.frombuffer(data, dtype=[('d', '<f2'), ('qs', 'u1', 16)], count=n // 32)
        lo = (b['qs'] & 15).astype(np.float64) - 8
        hi = (b['qs'] >> 4).astype(np.float64) - 8
        q = np.concatenate([lo, hi], axis=1)
        return (q * b['d'].astype(np.float64)[:, None]).reshape(-1)
    raise ValueError('unknown tensor type %d' % ttype)
