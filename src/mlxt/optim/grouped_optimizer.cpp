// The grouped optimizer: one catalogue optimizer per parameter group, each
// updating its own parameters, behind the plain Optimizer interface.
#include <string>
#include <utility>

#include "mlxt/core/error.h"
#include "mlxt/optim/catalogue.h"
#include "mlxt/optim/param_groups.h"
#include "mlxt/optim/state_layout.h"
#include "mlxt/optim/update_support.h"

namespace mlxt::optim {

namespace {

Schedule scaled(Schedule lr, double scale) {
  if (scale == 1.0) {
    return lr; // bit-identical to the ungrouped optimizer
  }
  return [lr = std::move(lr),
          s = static_cast<float>(scale)](const mx::array& step) {
    return mx::multiply(mx::astype(lr(step), mx::float32), mx::array(s));
  };
}

class GroupedOptimizer final : public Optimizer {
public:
  GroupedOptimizer(std::string name, GroupPlan plan, const Schedule& lr)
      : name_(std::move(name)), plan_(std::move(plan)) {
    for (const auto& g : plan_.groups) {
      inner_.push_back(make_optimizer(name_, g.params, scaled(lr, g.lr_scale)));
      // Slots per parameter do not depend on the parameter's shape.
      slots_.push_back(inner_.back()->state_names({"p"}).size());
    }
    for (size_t g : plan_.group_of) {
      offset_.push_back(total_slots_);
      total_slots_ += slots_[g];
    }
  }

  std::string name() const override { return name_; }

  std::vector<mx::array>
  init_state(const std::vector<mx::array>& params) const override {
    check_count("init_state", params.size());
    return detail::concat_per_param<mx::array>(params.size(), [&](size_t i) {
      return inner_[plan_.group_of[i]]->init_state({params[i]});
    });
  }

  std::vector<std::string>
  state_names(const std::vector<std::string>& param_names) const override {
    check_count("state_names", param_names.size());
    return detail::concat_per_param<std::string>(
        param_names.size(), [&](size_t i) {
          return inner_[plan_.group_of[i]]->state_names({param_names[i]});
        });
  }

  std::pair<std::vector<mx::array>, std::vector<mx::array>>
  update(const std::vector<mx::array>& params,
         const std::vector<mx::array>& grads,
         const std::vector<mx::array>& state,
         const mx::array& step) const override {
    check_count("update", params.size());
    if (grads.size() != params.size() || state.size() != total_slots_) {
      fail(ErrorCode::internal,
           "[grouped " + name_ + "] expected " + std::to_string(params.size()) +
               " gradients and " + std::to_string(total_slots_) +
               " state arrays, but received " + std::to_string(grads.size()) +
               " and " + std::to_string(state.size()) + ".");
    }
    std::vector<mx::array> new_params(params);
    std::vector<mx::array> new_state(state);
    for (size_t g = 0; g < plan_.groups.size(); ++g) {
      // Gather this group's parameters, gradients and slots, update them
      // together (per-step scalars are shared), and put them back.
      const auto& index = plan_.groups[g].index;
      std::vector<mx::array> p, gr, s;
      for (size_t i : index) {
        p.push_back(params[i]);
        gr.push_back(grads[i]);
        for (size_t k = 0; k < slots_[g]; ++k) {
          s.push_back(state[offset_[i] + k]);
        }
      }
      auto [np, ns] = inner_[g]->update(p, gr, s, step);
      for (size_t j = 0; j < index.size(); ++j) {
        new_params[index[j]] = std::move(np[j]);
        for (size_t k = 0; k < slots_[g]; ++k) {
          new_state[offset_[index[j]] + k] = std::move(ns[j * slots_[g] + k]);
        }
      }
    }
    return {std::move(new_params), std::move(new_state)};
  }

private:
  // The plan fixes the parameter list; another length is a caller bug.
  void check_count(const char* op, size_t count) const {
    if (count != plan_.group_of.size()) {
      fail(ErrorCode::internal,
           "[grouped " + name_ + "] " + op + " received " +
               std::to_string(count) + " parameters, but the groups were " +
               "planned for " + std::to_string(plan_.group_of.size()) + ".");
    }
  }

  std::string name_;
  GroupPlan plan_;
  std::vector<std::unique_ptr<Optimizer>> inner_; // per group
  std::vector<size_t> slots_;                     // per group: slots a param
  std::vector<size_t> offset_;                    // per param: first slot
  size_t total_slots_ = 0;
};

} // namespace

std::unique_ptr<Optimizer> make_grouped_optimizer(const std::string& name,
                                                  const GroupPlan& plan,
                                                  Schedule lr) {
  detail::require_schedule("grouped optimizer", lr);
  return std::make_unique<GroupedOptimizer>(name, plan, lr);
}

std::unique_ptr<Optimizer>
make_grouped_optimizer(const std::string& name,
                       const nlohmann::json& params,
                       Schedule lr,
                       const nlohmann::json& groups_json,
                       const std::vector<std::string>& param_names,
                       double base_lr) {
  return make_grouped_optimizer(
      name,
      plan_param_groups(name, params, groups_json, param_names, base_lr),
      std::move(lr));
}

} // namespace mlxt::optim
