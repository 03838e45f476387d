#include "mlxt/tokenizer/bpe.h"

#include <algorithm>
#include <limits>
#include <mutex>
#include <queue>

#include "mlxt/tokenizer/json_fields.h"
#include "mlxt/tokenizer/utf8.h"

namespace mlxt::tokenizer::detail {

namespace {

// Words longer than this are not cached: they are rare and would crowd out
// the short, frequent words the cache is for.
constexpr std::size_t kMaxCachedWordBytes = 256;
// The cache is dropped when it grows past this many words, bounding memory.
constexpr std::size_t kMaxCachedWords = 200000;

// An option that HF writes as null, or as "" in older files, both meaning
// "not used".
bool is_unset_string(const json& model, const std::string& name) {
  const json* value = optional_field(model, name);
  return value == nullptr ||
         (value->is_string() && value->get_ref<const std::string&>().empty());
}

} // namespace

struct BpeModel::WordCache {
  std::mutex mutex;
  std::unordered_map<std::string, std::vector<int>, StringHash, std::equal_to<>>
      ids_by_word;
};

BpeModel::BpeModel() : cache_(std::make_unique<WordCache>()) {}
BpeModel::BpeModel(BpeModel&&) noexcept = default;
BpeModel& BpeModel::operator=(BpeModel&&) noexcept = default;
BpeModel::~BpeModel() = default;

BpeModel BpeModel::from_json(const json& model, const std::string& file) {
  const std::string& type = as_string(
      require_field(model, "type", file, "model.type"), file, "model.type");
  if (type != "BPE") {
    fail_unsupported(
        file,
        "model.type",
        "model type \"" + type +
            "\" is not supported; this version handles \"BPE\" only");
  }
  if (const json* dropout = optional_field(model, "dropout");
      dropout != nullptr &&
      !(dropout->is_number() && dropout->get<double>() == 0.0)) {
    fail_unsupported(file, "model.dropout", "BPE dropout is not supported");
  }
  for (const char* name : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (!is_unset_string(model, name)) {
      fail_unsupported(
          file,
          std::string("model.") + name,
          "this version handles byte-level BPE without subword prefixes or "
          "suffixes");
    }
  }
  BpeModel out;
  out.fuse_unk_ =
      bool_field_or(model, "fuse_unk", false, file, "model.fuse_unk");
  out.ignore_merges_ =
      bool_field_or(model, "ignore_merges", false, file, "model.ignore_merges");
  out.byte_fallback_ =
      bool_field_or(model, "byte_fallback", false, file, "model.byte_fallback");

  const json& vocab = require_field(model, "vocab", file, "model.vocab");
  if (!vocab.is_object()) {
    fail_invalid(file,
                 "model.vocab",
                 "expected an object of token -> id but received " +
                     describe_type(vocab));
  }
  for (const auto& [token, id_value] : vocab.items()) {
    const std::string key = "model.vocab[\"" + token + "\"]";
    if (!id_value.is_number_integer() || id_value.get<long long>() < 0 ||
        id_value.get<long long>() > std::numeric_limits<int>::max()) {
      fail_invalid(file, key, "expected a non-negative integer id");
    }
    int id = id_value.get<int>();
    if (static_cast<std::size_t>(id) >= out.id_to_token_.size()) {
      out.id_to_token_.resize(id + 1);
      out.id_used_.resize(id + 1, false);
    }
    if (out.id_used_[id]) {
      fail_invalid(file,
                   key,
                   "id " + std::to_string(id) + " is already used by \"" +
                       out.id_to_token_[id] + "\"");
    }
    out.id_to_token_[id] = token;
    out.id_used_[id] = true;
    out.vocab_.emplace(token, id);
  }

  const json& merges = require_field(model, "merges", file, "model.merges");
  if (!merges.is_array()) {
    fail_invalid(file,
                 "model.merges",
                 "expected an array but received " + describe_type(merges));
  }
  out.merges_.reserve(merges.size());
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string key = "model.merges[" + std::to_string(rank) + "]";
    const json& merge = merges[rank];
    std::string left, right;
    if (merge.is_string()) {
      const std::string& line = merge.get_ref<const std::string&>();
      auto space = line.find(' ');
      if (space == std::string::npos ||
          line.find(' ', space + 1) != std::string::npos) {
        fail_invalid(
            file, key, "expected \"left right\" but received \"" + line + "\"");
      }
      left = line.substr(0, space);
      right = line.substr(space + 1);
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() &&
               merge[1].is_string()) {
      left = merge[0].get<std::string>();
      right = merge[1].get<std::string>();
    } else {
      fail_invalid(
          file,
          key,
          "expected \"left right\" or [\"left\", \"right\"] but received " +
              merge.dump());
    }
    auto left_id = out.token_to_id(left);
    auto right_id = out.token_to_id(right);
    auto merged_id = out.token_to_id(left + right);
    if (!left_id || !right_id || !merged_id) {
      const std::string& missing = !left_id    ? left
                                   : !right_id ? right
                                               : left + right;
      fail_invalid(file,
                   key,
                   "merge refers to \"" + missing +
                       "\", which is not in model.vocab");
    }
    // A pair listed twice keeps its first (best) rank, as HF does.
    out.merges_.try_emplace(pair_key(*left_id, *right_id),
                            Merge{static_cast<int>(rank), *merged_id});
  }

  if (const json* unk = optional_field(model, "unk_token")) {
    const std::string& unk_token = as_string(*unk, file, "model.unk_token");
    out.unk_id_ = out.token_to_id(unk_token);
    if (!out.unk_id_) {
      fail_invalid(file,
                   "model.unk_token",
                   "\"" + unk_token + "\" is not in model.vocab");
    }
  }
  // SentencePiece-style vocabularies spell byte b as "<0xBB>" (upper-case
  // hex), the fallback for characters that have no token of their own.
  for (int byte = 0; byte < 256; ++byte) {
    static const char* kHex = "0123456789ABCDEF";
    std::string name =
        std::string("<0x") + kHex[byte >> 4] + kHex[byte & 15] + ">";
    out.byte_ids_[byte] = out.token_to_id(name).value_or(-1);
  }
  return out;
}

std::optional<int> BpeModel::token_to_id(std::string_view token) const {
  auto it = vocab_.find(token);
  if (it == vocab_.end()) {
    return std::nullopt;
  }
  return it->second;
}

const std::string* BpeModel::id_to_token(int id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= id_to_token_.size() ||
      !id_used_[id]) {
    return nullptr;
  }
  return &id_to_token_[id];
}

void BpeModel::encode_word(std::string_view word, std::vector<int>& ids) const {
  if (ignore_merges_) {
    if (auto id = token_to_id(word)) {
      ids.push_back(*id);
      return;
    }
  }
  bool cacheable = word.size() <= kMaxCachedWordBytes;
  if (cacheable) {
    std::lock_guard lock(cache_->mutex);
    auto it = cache_->ids_by_word.find(word);
    if (it != cache_->ids_by_word.end()) {
      ids.insert(ids.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int> word_ids = merge_word(word);
  ids.insert(ids.end(), word_ids.begin(), word_ids.end());
  if (cacheable) {
    std::lock_guard lock(cache_->mutex);
    if (cache_->ids_by_word.size() >= kMaxCachedWords) {
      cache_->ids_by_word.clear();
    }
    cache_->ids_by_word.emplace(std::string(word), std::move(word_ids));
  }
}

// Applies merges lowest rank first (leftmost first among equal ranks) using a
// priority queue over a linked list of symbols, so long words cost
// O(n log n) rather than O(n^2).
std::vector<int> BpeModel::merge_word(std::string_view word) const {
  struct Symbol {
    int id;
    int prev; // index of the previous live symbol, -1 at the start
    int next; // index of the next live symbol, -1 at the end
    bool alive;
  };
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  auto push_symbol = [&](int id) {
    int index = static_cast<int>(symbols.size());
    symbols.push_back({id, index - 1, -1, true});
    if (index > 0) {
      symbols[index - 1].next = index;
    }
  };
  // As HF: unknown characters become the unk token, consecutive ones fused
  // into one with fuse_unk; the pending unk is written when a known
  // character follows (byte-fallback bytes do not write it, as in HF).
  bool unk_pending = false;
  for (std::size_t pos = 0; pos < word.size();) {
    std::size_t length = utf8_sequence_length(word, pos);
    if (length == 0) {
      length = 1; // the input was validated; keep going safely
    }
    std::string_view character = word.substr(pos, length);
    pos += length;
    if (auto id = token_to_id(character)) {
      if (unk_pending) {
        push_symbol(*unk_id_);
        unk_pending = false;
      }
      push_symbol(*id);
      continue;
    }
    if (byte_fallback_ &&
        std::all_of(character.begin(), character.end(), [&](char c) {
          return byte_ids_[static_cast<unsigned char>(c)] >= 0;
        })) {
      for (char c : character) {
        push_symbol(byte_ids_[static_cast<unsigned char>(c)]);
      }
      continue;
    }
    if (!unk_id_) {
      continue;
    }
    if (unk_pending && !fuse_unk_) {
      push_symbol(*unk_id_);
    }
    unk_pending = true;
  }
  if (unk_pending) {
    push_symbol(*unk_id_);
  }

  struct Candidate {
    int rank;
    int left; // index of the left symbol of the pair
    int left_id;
    int right_id;
    // std::priority_queue is a max-heap: invert to pop the lowest rank,
    // then the leftmost position.
    bool operator<(const Candidate& other) const {
      return rank != other.rank ? rank > other.rank : left > other.left;
    }
  };
  std::priority_queue<Candidate> queue;
  auto push_pair = [&](int left) {
    if (left < 0 || symbols[left].next < 0) {
      return;
    }
    const Symbol& a = symbols[left];
    const Symbol& b = symbols[a.next];
    auto it = merges_.find(pair_key(a.id, b.id));
    if (it != merges_.end()) {
      queue.push({it->second.rank, left, a.id, b.id});
    }
  };
  for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i) {
    push_pair(i);
  }
  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.left];
    // Skip candidates made stale by an earlier merge next to them.
    if (!left.alive || left.next < 0 || left.id != top.left_id ||
        symbols[left.next].id != top.right_id) {
      continue;
    }
    Symbol& right = symbols[left.next];
    left.id = merges_.at(pair_key(top.left_id, top.right_id)).merged_id;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) {
      symbols[right.next].prev = top.left;
    }
    push_pair(left.prev);
    push_pair(top.left);
  }

  std::vector<int> ids;
  for (int i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next) {
    ids.push_back(symbols[i].id);
  }
  return ids;
}

} // namespace mlxt::tokenizer::detail
