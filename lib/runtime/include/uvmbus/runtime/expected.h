// Expected<T, E>: a value (or, for T = void, success) or the reason there is
// none. A stand-in for C++23's std::expected (absent from our g++ 12) with the
// same spelling for the subset used here, so callers can switch with a
// using-declaration later. Accessing the wrong alternative is a precondition
// violation (asserted), not an exception. lib/channel uses this one too.
#pragma once

#include <cassert>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace uvmbus::runtime {

template <typename E>
class Unexpected {
 public:
  explicit constexpr Unexpected(E error) noexcept(std::is_nothrow_move_constructible_v<E>)
      : error_(std::move(error)) {}
  constexpr E& error() noexcept { return error_; }

 private:
  E error_;
};

template <typename T, typename E>
class [[nodiscard]] Expected {
 public:
  constexpr Expected(T value) noexcept(std::is_nothrow_move_constructible_v<T>)
      : state_(std::in_place_index<0>, std::move(value)) {}
  constexpr Expected(Unexpected<E> unexpected) noexcept(std::is_nothrow_move_constructible_v<E>)
      : state_(std::in_place_index<1>, std::move(unexpected.error())) {}

  constexpr bool has_value() const noexcept { return state_.index() == 0; }
  constexpr explicit operator bool() const noexcept { return has_value(); }

  constexpr T& value() & noexcept { return *std::get_if<0>(&checked_value()); }
  constexpr const T& value() const& noexcept { return *std::get_if<0>(&checked_value()); }
  constexpr T&& value() && noexcept { return std::move(*std::get_if<0>(&checked_value())); }
  constexpr T& operator*() & noexcept { return value(); }
  constexpr const T& operator*() const& noexcept { return value(); }
  constexpr T&& operator*() && noexcept { return std::move(*this).value(); }
  constexpr T* operator->() noexcept { return &value(); }
  constexpr const T* operator->() const noexcept { return &value(); }

  constexpr const E& error() const noexcept {
    assert(!has_value());
    return *std::get_if<1>(&state_);
  }

 private:
  constexpr std::variant<T, E>& checked_value() noexcept {
    assert(has_value());
    return state_;
  }
  constexpr const std::variant<T, E>& checked_value() const noexcept {
    assert(has_value());
    return state_;
  }

  std::variant<T, E> state_;
};

// Success or an error, for calls that return nothing else.
template <typename E>
class [[nodiscard]] Expected<void, E> {
 public:
  constexpr Expected() noexcept = default;
  constexpr Expected(Unexpected<E> unexpected) noexcept(std::is_nothrow_move_constructible_v<E>)
      : error_(std::move(unexpected.error())) {}

  constexpr bool has_value() const noexcept { return !error_.has_value(); }
  constexpr explicit operator bool() const noexcept { return has_value(); }

  constexpr const E& error() const noexcept {
    assert(!has_value());
    return *error_;
  }

 private:
  std::optional<E> error_;
};

}  // namespace uvmbus::runtime
