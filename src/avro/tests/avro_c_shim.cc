#include "avro_c_shim.h"

#include <avro.h>  // after the standard headers (it wraps its includes in extern "C")

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace forcepipe::avro::avroc {
namespace {

bool ReadValue(avro_value_t* a, Datum* d, std::string* error) {
  switch (avro_value_get_type(a)) {
    case AVRO_NULL:
      d->kind = Kind::kNull;
      return true;
    case AVRO_BOOLEAN: {
      int b = 0;
      d->kind = Kind::kBoolean;
      if (avro_value_get_boolean(a, &b) != 0) return false;
      d->i = b;
      return true;
    }
    case AVRO_INT32: {
      int32_t x = 0;
      d->kind = Kind::kInt;
      if (avro_value_get_int(a, &x) != 0) return false;
      d->i = x;
      return true;
    }
    case AVRO_INT64:
      d->kind = Kind::kLong;
      return avro_value_get_long(a, &d->i) == 0;
    case AVRO_FLOAT:
      d->kind = Kind::kFloat;
      return avro_value_get_float(a, &d->f) == 0;
    case AVRO_DOUBLE:
      d->kind = Kind::kDouble;
      return avro_value_get_double(a, &d->d) == 0;
    case AVRO_STRING: {
      const char* p = nullptr;
      size_t n = 0;
      d->kind = Kind::kString;
      if (avro_value_get_string(a, &p, &n) != 0 || n == 0) return false;
      d->bytes.assign(p, n - 1);  // size includes the NUL terminator
      return true;
    }
    case AVRO_BYTES:
    case AVRO_FIXED: {
      const void* p = nullptr;
      size_t n = 0;
      bool fixed = avro_value_get_type(a) == AVRO_FIXED;
      d->kind = fixed ? Kind::kFixed : Kind::kBytes;
      int rc = fixed ? avro_value_get_fixed(a, &p, &n) : avro_value_get_bytes(a, &p, &n);
      if (rc != 0) return false;
      d->bytes.assign(static_cast<const char*>(p), n);
      return true;
    }
    case AVRO_ENUM: {
      int e = 0;
      d->kind = Kind::kEnum;
      if (avro_value_get_enum(a, &e) != 0) return false;
      d->i = e;
      return true;
    }
    case AVRO_RECORD:
    case AVRO_ARRAY:
    case AVRO_MAP: {
      avro_type_t t = avro_value_get_type(a);
      d->kind = t == AVRO_RECORD ? Kind::kRecord : (t == AVRO_ARRAY ? Kind::kArray : Kind::kMap);
      size_t n = 0;
      if (avro_value_get_size(a, &n) != 0) return false;
      d->kids.resize(n);
      for (size_t i = 0; i < n; ++i) {
        avro_value_t child;
        const char* name = nullptr;
        if (avro_value_get_by_index(a, i, &child, &name) != 0) return false;
        if (t != AVRO_ARRAY) d->keys.push_back(name != nullptr ? name : "");
        if (!ReadValue(&child, &d->kids[i], error)) return false;
      }
      return true;
    }
    case AVRO_UNION: {
      int disc = 0;
      d->kind = Kind::kUnion;
      if (avro_value_get_discriminant(a, &disc) != 0) return false;
      d->i = disc;
      avro_value_t branch;
      if (avro_value_get_current_branch(a, &branch) != 0) return false;
      d->kids.resize(1);
      return ReadValue(&branch, &d->kids[0], error);
    }
    default:
      *error = "unexpected avro-c type";
      return false;
  }
}

bool WriteValue(const Datum& d, avro_value_t* a) {
  switch (d.kind) {
    case Kind::kNull:
      return avro_value_set_null(a) == 0;
    case Kind::kBoolean:
      return avro_value_set_boolean(a, static_cast<int>(d.i)) == 0;
    case Kind::kInt:
      return avro_value_set_int(a, static_cast<int32_t>(d.i)) == 0;
    case Kind::kLong:
      return avro_value_set_long(a, d.i) == 0;
    case Kind::kFloat:
      return avro_value_set_float(a, d.f) == 0;
    case Kind::kDouble:
      return avro_value_set_double(a, d.d) == 0;
    case Kind::kString:  // size includes the NUL terminator
      return avro_value_set_string_len(a, d.bytes.c_str(), d.bytes.size() + 1) == 0;
    case Kind::kBytes:
      return avro_value_set_bytes(a, const_cast<char*>(d.bytes.data()), d.bytes.size()) == 0;
    case Kind::kFixed:
      return avro_value_set_fixed(a, const_cast<char*>(d.bytes.data()), d.bytes.size()) == 0;
    case Kind::kEnum:
      return avro_value_set_enum(a, static_cast<int>(d.i)) == 0;
    case Kind::kRecord:
      for (size_t i = 0; i < d.kids.size(); ++i) {
        avro_value_t child;
        if (avro_value_get_by_index(a, i, &child, nullptr) != 0) return false;
        if (!WriteValue(d.kids[i], &child)) return false;
      }
      return true;
    case Kind::kArray:
      for (const Datum& item : d.kids) {
        avro_value_t child;
        if (avro_value_append(a, &child, nullptr) != 0) return false;
        if (!WriteValue(item, &child)) return false;
      }
      return true;
    case Kind::kMap:
      for (size_t i = 0; i < d.kids.size(); ++i) {
        avro_value_t child;
        if (avro_value_add(a, d.keys[i].c_str(), &child, nullptr, nullptr) != 0) return false;
        if (!WriteValue(d.kids[i], &child)) return false;
      }
      return true;
    case Kind::kUnion: {
      avro_value_t branch;
      if (avro_value_set_branch(a, static_cast<int>(d.i), &branch) != 0) return false;
      return WriteValue(d.kids[0], &branch);
    }
  }
  return false;
}

}  // namespace

std::unique_ptr<Codec> Codec::Create(const std::string& schema_json, std::string* error) {
  avro_schema_t schema = nullptr;
  if (avro_schema_from_json_length(schema_json.data(), schema_json.size(), &schema) != 0) {
    *error = avro_strerror();
    return nullptr;
  }
  avro_value_iface_t* iface = avro_generic_class_from_schema(schema);
  if (iface == nullptr) {
    *error = avro_strerror();
    avro_schema_decref(schema);
    return nullptr;
  }
  std::unique_ptr<Codec> c(new Codec());
  c->schema_ = schema;
  c->iface_ = iface;
  return c;
}

Codec::~Codec() {
  if (iface_ != nullptr) avro_value_iface_decref(static_cast<avro_value_iface_t*>(iface_));
  if (schema_ != nullptr) avro_schema_decref(static_cast<avro_schema_t>(schema_));
}

bool Codec::Read(const std::string& bytes, Datum* out, std::string* error) {
  avro_value_t v;
  if (avro_generic_value_new(static_cast<avro_value_iface_t*>(iface_), &v) != 0) {
    *error = avro_strerror();
    return false;
  }
  avro_reader_t reader = avro_reader_memory(bytes.data(), static_cast<int64_t>(bytes.size()));
  bool ok = avro_value_read(reader, &v) == 0;
  if (!ok) *error = avro_strerror();
  // avro-c does not report trailing bytes itself; check that it consumed everything.
  if (ok) {
    // A reader has no tell(); re-encode size instead.
    size_t size = 0;
    if (avro_value_sizeof(&v, &size) != 0 || size != bytes.size()) {
      ok = false;
      *error = "avro-c consumed " + std::to_string(size) + " of " + std::to_string(bytes.size());
    }
  }
  avro_reader_free(reader);
  if (ok) ok = ReadValue(&v, out, error);
  avro_value_decref(&v);
  return ok;
}

bool Codec::Write(const Datum& d, std::string* out, std::string* error) {
  avro_value_t v;
  if (avro_generic_value_new(static_cast<avro_value_iface_t*>(iface_), &v) != 0) {
    *error = avro_strerror();
    return false;
  }
  bool ok = WriteValue(d, &v);
  size_t size = 0;
  if (ok) ok = avro_value_sizeof(&v, &size) == 0;
  if (ok) {
    out->assign(size, '\0');
    avro_writer_t writer = avro_writer_memory(out->data(), static_cast<int64_t>(size));
    ok = avro_value_write(writer, &v) == 0;
    if (ok) out->resize(static_cast<size_t>(avro_writer_tell(writer)));
    avro_writer_free(writer);
  }
  if (!ok) *error = avro_strerror();
  avro_value_decref(&v);
  return ok;
}

}  // namespace forcepipe::avro::avroc
