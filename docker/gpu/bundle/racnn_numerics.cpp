// racnn-numerics: the bundle's numerics and data-layer helper, built against
// the bundle's libcaffe (docker/gpu/build_caffe_gpu.sh copies it into Caffe's
// tools/, whose CMakeLists makes one program per file).
//
//   racnn-numerics run --model NET --out FILE [--gpu ID] [--seed S]
//                      [--classes C] [--blobs a,b] [--params l1,l2]
//       Builds NET (TEST phase: no dropout, centre crops) with Caffe's seeded
//       fillers (the same seed gives the same weights in CPU and GPU mode:
//       fillers always run on the CPU), fills its Input blobs with a seeded
//       batch (data: uniform 0..255; label: i*7 mod C), runs one forward and
//       one backward pass on the CPU, or on GPU ID, and writes the loss, the
//       named blobs' data and the named layers' parameter gradients to FILE,
//       with a hash of the initial weights so that a comparison can check that
//       both sides started from the same net. RACNN_CUDNN / RACNN_TF32 are read
//       by Caffe itself (patches 03-05): set them in the environment.
//   racnn-numerics compare REF FILE
//       One JSON object: for each array, the largest absolute difference, the
//       largest absolute value of REF, their ratio (rel_to_max) and the largest
//       elementwise relative difference over elements with |ref| >= 1e-3 of
//       REF's largest (max_rel); and whether the initial weights were the same.
//   racnn-numerics make-lmdb --out DIR --count N [--size S] [--classes C] [--seed S]
//       A database of N random SxSx3 Datums (uint8, labels i mod C) made on the
//       spot, so that `caffe train` can be timed through Caffe's Data layer
//       without carrying images in the bundle.
//
// Exit status: 0 done, 1 failed (one line on stderr), 2 bad arguments.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "boost/scoped_ptr.hpp"
#include "caffe/caffe.hpp"
#include "caffe/util/db.hpp"

using caffe::Blob;
using caffe::Caffe;
using caffe::Net;
using std::string;
using std::vector;

namespace {

int usage() {
  fprintf(stderr,
      "usage: racnn-numerics run --model NET --out FILE [--gpu ID] [--seed S] "
      "[--classes C] [--blobs a,b] [--params l1,l2]\n"
      "       racnn-numerics compare REF FILE\n"
      "       racnn-numerics make-lmdb --out DIR --count N [--size S] [--classes C] "
      "[--seed S]\n");
  return 2;
}

int fail(const string& what) {
  fprintf(stderr, "racnn-numerics: %s\n", what.c_str());
  return 1;
}

vector<string> split(const string& s) {
  vector<string> out;
  std::stringstream in(s);
  string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// --key value pairs after the subcommand.
bool parse(int argc, char** argv, int first, std::map<string, string>* opts) {
  for (int i = first; i < argc; i += 2) {
    if (strncmp(argv[i], "--", 2) != 0 || i + 1 >= argc) return false;
    (*opts)[argv[i] + 2] = argv[i + 1];
  }
  return true;
}

string opt(const std::map<string, string>& o, const string& k, const string& d) {
  std::map<string, string>::const_iterator it = o.find(k);
  return it == o.end() ? d : it->second;
}

// The dump format: lines "name count\n" each followed by count raw float32s.
struct Array {
  string name;
  vector<float> v;
};

bool write_dump(const string& path, const vector<Array>& arrays) {
  string tmp = path + ".partial";
  FILE* f = fopen(tmp.c_str(), "wb");
  if (!f) return false;
  for (size_t i = 0; i < arrays.size(); ++i) {
    fprintf(f, "%s %zu\n", arrays[i].name.c_str(), arrays[i].v.size());
    if (!arrays[i].v.empty() &&
        fwrite(&arrays[i].v[0], sizeof(float), arrays[i].v.size(), f) !=
            arrays[i].v.size()) {
      fclose(f);
      return false;
    }
  }
  if (fclose(f) != 0) return false;
  return rename(tmp.c_str(), path.c_str()) == 0;
}

bool read_dump(const string& path, vector<Array>* arrays) {
  FILE* f = fopen(path.c_str(), "rb");
  if (!f) return false;
  char name[512];
  size_t n;
  while (fscanf(f, "%511s %zu", name, &n) == 2) {
    if (fgetc(f) != '\n') break;
    Array a;
    a.name = name;
    a.v.resize(n);
    if (n && fread(&a.v[0], sizeof(float), n, f) != n) break;
    arrays->push_back(a);
  }
  bool ok = feof(f) || arrays->size() > 0;
  fclose(f);
  return ok;
}

// FNV-1a over the bytes of every learnable parameter (as two floats: the
// hash does not fit a float's 24-bit mantissa whole).
vector<float> weights_hash(Net<float>& net) {
  uint64_t h = 1469598103934665603ULL;
  const vector<Blob<float>*>& params = net.learnable_params();
  for (size_t i = 0; i < params.size(); ++i) {
    const unsigned char* p =
        reinterpret_cast<const unsigned char*>(params[i]->cpu_data());
    for (size_t k = 0; k < params[i]->count() * sizeof(float); ++k) {
      h = (h ^ p[k]) * 1099511628211ULL;
    }
  }
  vector<float> out(4);
  for (int k = 0; k < 4; ++k) out[k] = static_cast<float>((h >> (16 * k)) & 0xffff);
  return out;
}

int run(const std::map<string, string>& o) {
  const string model = opt(o, "model", ""), out = opt(o, "out", "");
  if (model.empty() || out.empty()) return usage();
  const int gpu = atoi(opt(o, "gpu", "-1").c_str());
  const unsigned seed = static_cast<unsigned>(atol(opt(o, "seed", "1701").c_str()));
  const int classes = atoi(opt(o, "classes", "2").c_str());
  if (gpu >= 0) {
    Caffe::SetDevice(gpu);
    Caffe::set_mode(Caffe::GPU);
  } else {
    Caffe::set_mode(Caffe::CPU);
  }
  Caffe::set_random_seed(seed);
  Net<float> net(model, caffe::TEST);
  vector<Array> arrays;
  Array hash;
  hash.name = "weights_fnv";
  hash.v = weights_hash(net);
  arrays.push_back(hash);

  // The batch: made on the CPU from its own seeded generator, the same bytes
  // on both sides.
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> pixel(0.f, 255.f);
  const vector<Blob<float>*>& inputs = net.input_blobs();
  const vector<string>& names = net.blob_names();
  for (size_t i = 0; i < inputs.size(); ++i) {
    float* d = inputs[i]->mutable_cpu_data();
    const string& name = names[net.input_blob_indices()[i]];
    const bool label = name.find("label") != string::npos;
    for (int k = 0; k < inputs[i]->count(); ++k) {
      d[k] = label ? static_cast<float>((k * 7) % classes) : pixel(gen);
    }
  }
  float loss = 0;
  net.Forward(&loss);
  net.Backward();
  Array l;
  l.name = "loss";
  l.v.push_back(loss);
  arrays.push_back(l);
  vector<string> blobs = split(opt(o, "blobs", ""));
  for (size_t i = 0; i < blobs.size(); ++i) {
    if (!net.has_blob(blobs[i])) return fail("net " + model + " has no blob " + blobs[i]);
    const Blob<float>& b = *net.blob_by_name(blobs[i]);
    Array a;
    a.name = "blob:" + blobs[i];
    a.v.assign(b.cpu_data(), b.cpu_data() + b.count());
    arrays.push_back(a);
  }
  vector<string> layers = split(opt(o, "params", ""));
  for (size_t i = 0; i < layers.size(); ++i) {
    if (!net.has_layer(layers[i])) return fail("net " + model + " has no layer " + layers[i]);
    const vector<boost::shared_ptr<Blob<float> > >& p =
        net.layer_by_name(layers[i])->blobs();
    for (size_t k = 0; k < p.size(); ++k) {
      Array a;
      std::ostringstream n;
      n << "grad:" << layers[i] << "/" << k;
      a.name = n.str();
      a.v.assign(p[k]->cpu_diff(), p[k]->cpu_diff() + p[k]->count());
      arrays.push_back(a);
    }
  }
  if (!write_dump(out, arrays)) return fail("cannot write " + out);
  printf("racnn-numerics: %s mode, loss %.6g, %zu arrays -> %s\n",
         gpu >= 0 ? "GPU" : "CPU", loss, arrays.size(), out.c_str());
  return 0;
}

int compare(const string& ref_path, const string& path) {
  vector<Array> ref, got;
  if (!read_dump(ref_path, &ref)) return fail("cannot read " + ref_path);
  if (!read_dump(path, &got)) return fail("cannot read " + path);
  std::map<string, const Array*> by_name;
  for (size_t i = 0; i < got.size(); ++i) by_name[got[i].name] = &got[i];
  printf("{\"reference\": \"%s\", \"file\": \"%s\", \"arrays\": {", ref_path.c_str(),
         path.c_str());
  bool same_weights = false, first = true;
  double worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    std::map<string, const Array*>::const_iterator it = by_name.find(ref[i].name);
    if (it == by_name.end() || it->second->v.size() != ref[i].v.size()) {
      printf("}}\n");
      return fail("arrays differ in name or size: " + ref[i].name);
    }
    const vector<float>& a = ref[i].v;
    const vector<float>& b = it->second->v;
    if (ref[i].name == "weights_fnv") {
      same_weights = a == b;
      continue;
    }
    double max_ref = 0, max_abs = 0, max_rel = 0, sum_abs = 0;
    for (size_t k = 0; k < a.size(); ++k) max_ref = std::max(max_ref, std::fabs((double)a[k]));
    for (size_t k = 0; k < a.size(); ++k) {
      const double d = std::fabs((double)a[k] - (double)b[k]);
      if (std::isnan(d)) { max_abs = max_rel = NAN; break; }
      max_abs = std::max(max_abs, d);
      sum_abs += d;
      if (std::fabs((double)a[k]) >= 1e-3 * max_ref && a[k] != 0)
        max_rel = std::max(max_rel, d / std::fabs((double)a[k]));
    }
    const double rel = max_ref > 0 ? max_abs / max_ref : max_abs;
    if (!(rel <= worst)) worst = rel;   // NaN sticks
    printf("%s\"%s\": {\"count\": %zu, \"max_abs_diff\": %.6g, \"max_abs_ref\": %.6g, "
           "\"rel_to_max\": %.6g, \"max_rel\": %.6g, \"mean_abs_diff\": %.6g}",
           first ? "" : ", ", ref[i].name.c_str(), a.size(), max_abs, max_ref, rel, max_rel,
           a.empty() ? 0.0 : sum_abs / a.size());
    first = false;
  }
  printf("}, \"same_initial_weights\": %s, \"worst_rel_to_max\": %.6g}\n",
         same_weights ? "true" : "false", worst);
  return same_weights ? 0 : fail("the two runs did not start from the same weights");
}

int make_lmdb(const std::map<string, string>& o) {
  const string out = opt(o, "out", "");
  const int count = atoi(opt(o, "count", "0").c_str());
  const int size = atoi(opt(o, "size", "227").c_str());
  const int classes = atoi(opt(o, "classes", "196").c_str());
  const unsigned seed = static_cast<unsigned>(atol(opt(o, "seed", "1701").c_str()));
  if (out.empty() || count <= 0 || size <= 0 || classes <= 0) return usage();
  boost::scoped_ptr<caffe::db::DB> db(caffe::db::GetDB("lmdb"));
  db->Open(out, caffe::db::NEW);
  boost::scoped_ptr<caffe::db::Transaction> txn(db->NewTransaction());
  std::mt19937 gen(seed);
  caffe::Datum datum;
  datum.set_channels(3);
  datum.set_height(size);
  datum.set_width(size);
  string pixels(3 * size * size, '\0'), value;
  for (int i = 0; i < count; ++i) {
    for (size_t k = 0; k < pixels.size(); k += 4) {
      const uint32_t r = gen();
      for (size_t j = 0; j < 4 && k + j < pixels.size(); ++j)
        pixels[k + j] = static_cast<char>((r >> (8 * j)) & 0xff);
    }
    datum.set_data(pixels);
    datum.set_label(i % classes);
    datum.SerializeToString(&value);
    char key[16];
    snprintf(key, sizeof key, "%08d", i);
    txn->Put(key, value);
    if ((i + 1) % 256 == 0) {
      txn->Commit();
      txn.reset(db->NewTransaction());
    }
  }
  txn->Commit();
  db->Close();
  printf("racnn-numerics: %d random %dx%dx3 Datums -> %s\n", count, size, size, out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  FLAGS_logtostderr = 1;
  ::google::InitGoogleLogging(argv[0]);
  if (argc < 2) return usage();
  const string cmd = argv[1];
  if (cmd == "compare") return argc == 4 ? compare(argv[2], argv[3]) : usage();
  std::map<string, string> o;
  if (!parse(argc, argv, 2, &o)) return usage();
  if (cmd == "run") return run(o);
  if (cmd == "make-lmdb") return make_lmdb(o);
  return usage();
}
