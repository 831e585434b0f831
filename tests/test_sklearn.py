"""chainrule.sklearn: the estimators keep scikit-learn's conventions (its own check suite) and
work inside its tools (Pipeline, GridSearchCV, cross_val_score, clone, pickle)."""

import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_iris, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule.sklearn import EXPECTED_FAILED_CHECKS, SOLVERS, MLPClassifier, MLPRegressor  # noqa: E402

#: checks that scikit-learn itself skips for reasons of the environment, not of the estimator
ENVIRONMENT_SKIPS = {"check_array_api_input": "SCIPY_ARRAY_API is not set"}


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("estimator", [MLPClassifier(), MLPRegressor()], ids=lambda e: type(e).__name__)
def test_check_estimator_passes_in_full(estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, expected_failed_checks=EXPECTED_FAILED_CHECKS, on_skip=None)
    not_passed = {r["check_name"]: r["status"] for r in results if r["status"] != "passed"}
    assert set(not_passed) <= set(ENVIRONMENT_SKIPS), not_passed
    assert len(results) > 40


def test_labels_of_any_kind_come_back_as_given(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=300, random_state=0).fit(X, names)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    assert set(clf.predict(X)) <= set(names) and clf.score(X, names) > 0.9
    proba = clf.predict_proba(X)
    assert proba.shape == (150, 3) and np.allclose(proba.sum(axis=1), 1)
    assert np.allclose(np.log(proba), clf.predict_log_proba(X))
    assert isinstance(clf.model_, cr.Sequential) and clf.n_features_in_ == 4 and clf.n_iter_ >= 1
    assert len(clf.loss_curve_) == clf.n_iter_ and clf.loss_curve_[-1] < clf.loss_curve_[0]


@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_every_solver_learns(iris, solver):
    X, y = iris
    lr = {"sgd": 0.1, "adagrad": 0.1}.get(solver, 0.01)
    clf = MLPClassifier(hidden_layer_sizes=(8,), solver=solver, learning_rate_init=lr, max_iter=100, batch_size=16,
                        random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert type(clf._optimizer) is SOLVERS[solver]
    assert clf.score(X, y) > 0.85


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu", "leaky_relu", "elu", "gelu"])
def test_every_activation_is_the_hidden_layers(iris, activation):
    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(5, 4), activation=activation, max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    kinds = [type(layer).__name__ for layer in clf.model_.layers]
    g = {"logistic": "Sigmoid", "relu": "ReLU", "leaky_relu": "LeakyReLU", "elu": "ELU", "gelu": "GELU"}
    g = g.get(activation, activation.capitalize())
    assert kinds == ["Dense", g, "Dense", g, "Dense"]
    assert [l.n_out for l in clf.model_.layers if isinstance(l, cr.Dense)] == [5, 4, 3]


def test_pipeline_grid_search_cross_val_score_and_clone(iris):
    X, y = iris
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.01,
                                                         batch_size=16, max_iter=50, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(pipe, X, y, cv=3)
        grid = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 1.0], "mlpclassifier__hidden_layer_sizes":
                                   [(4,), (8,)]}, cv=3).fit(X, y)
    assert scores.shape == (3,) and scores.mean() > 0.85
    assert grid.best_score_ > 0.85 and len(grid.cv_results_["params"]) == 4
    copy = clone(grid.best_estimator_)
    assert copy.get_params()["mlpclassifier__alpha"] == grid.best_params_["mlpclassifier__alpha"]
    assert not hasattr(copy[-1], "model_")


def test_fit_with_an_int_random_state_is_repeatable(iris):
    X, y = iris
    a = MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=3, dtype="float32")
    b = clone(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a.fit(X, y), b.fit(X, y)
    assert np.array_equal(a.model_.params_, b.model_.params_) and a.model_.dtype == np.float32


def test_float32_rows_reach_a_float32_network_without_a_copy(iris, monkeypatch):
    X = np.ascontiguousarray(iris[0], dtype=np.float32)
    seen, fit = [], cr.Sequential.fit

    def recording_fit(model, X_fit, *args, **kwargs):
        seen.append(X_fit)
        return fit(model, X_fit, *args, **kwargs)

    monkeypatch.setattr(cr.Sequential, "fit", recording_fit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, dtype="float32").fit(X, iris[1])
    assert np.shares_memory(seen[0], X)  # not copied to float64 and back
    assert np.array_equal(clf.predict_proba(X), clf.predict_proba(X.astype(np.float64)))


def test_early_stopping_scores_validation_rows_and_keeps_the_best_epoch(iris):
    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(8,), early_stopping=True, validation_fraction=0.2,
                        n_iter_no_change=3, max_iter=500, random_state=0).fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_ < 500
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert MLPClassifier(max_iter=1).fit(X, y).validation_scores_ is None


def test_the_stopping_rule_ends_fit_when_the_loss_stalls(iris):
    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(8,), tol=10.0, n_iter_no_change=2, max_iter=100).fit(X, y)
    assert clf.n_iter_ == 4  # the first epoch improves on infinity; then none by 10: stop after 2 + 1 more
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        MLPClassifier(hidden_layer_sizes=(8,), max_iter=2).fit(X, y)


def test_warm_start_and_partial_fit_continue_from_the_weights(iris):
    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
        before = clf.model_.params_.copy()
        model = clf.model_
        clf.fit(X, y)
    assert clf.model_ is model and clf.n_iter_ == 6 and not np.array_equal(before, clf.model_.params_)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        MLPClassifier().partial_fit(X, y)
    inc = MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    for _ in range(3):
        inc.partial_fit(X[:100], y[:100], classes=[0, 1, 2])
    assert inc.n_iter_ == 3 and list(inc.classes_) == [0, 1, 2]
    with pytest.raises(ValueError, match=r"labels \[7\] that are not in classes_"):
        inc.partial_fit(X[:3], [0, 1, 7])


def test_a_pickled_estimator_trains_on(iris):
    """model_'s layers are views of one flat buffer; pickle must keep them so, or the optimizer
    would update a copy the forward pass never reads. (Pickling estimators is scikit-learn's
    contract: clone, joblib and GridSearchCV rely on it. chainrule's own files never unpickle:
    models are saved as JSON and .npy arrays read with allow_pickle=False.)"""
    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(8,), random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    again = pickle.loads(pickle.dumps(clf))
    assert np.array_equal(again.predict_proba(X), clf.predict_proba(X))
    again.partial_fit(X, y), clf.partial_fit(X, y)
    assert np.array_equal(again.predict_proba(X), clf.predict_proba(X))
    assert np.shares_memory(again.model_.layers[0].W, again.model_.params_)


def test_the_regressor_fits_one_or_several_targets():
    X, y = make_regression(n_samples=200, n_features=5, n_targets=2, noise=1.0, random_state=0)
    y = y / y.std(axis=0)
    reg = MLPRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=300, random_state=0).fit(X, y)
    assert reg.predict(X).shape == (200, 2) and reg.n_outputs_ == 2 and reg.score(X, y) > 0.95
    one = MLPRegressor(hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one.fit(X, y[:, 0])
    assert one.predict(X).shape == (200,)


def test_feature_names_are_kept_from_a_data_frame(iris):
    pd = pytest.importorskip("pandas")
    X, y = iris
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(frame, y)
    assert list(clf.feature_names_in_) == ["a", "b", "c", "d"]


@pytest.mark.parametrize("name, value, error, message", [
    ("hidden_layer_sizes", (4, 0), ValueError, "hidden_layer_sizes must be an integer >= 1; received 0"),
    ("solver", "lbfgs", ValueError, "solver must be one of"),
    ("alpha", -1.0, ValueError, "alpha must be"),
    ("alpha", "big", TypeError, "alpha must be"),
    ("max_iter", 0, ValueError, "max_iter must be"),
    ("validation_fraction", 1.0, ValueError, "validation_fraction must be"),
    ("shuffle", "yes", TypeError, "shuffle must be True or False"),
    ("activation", "softplus", ValueError, "activation must be one of"),
    ("dtype", "float16", ValueError, "dtype must be one of"),
])
def test_hyper_parameters_are_checked_when_fit_uses_them(iris, name, value, error, message):
    X, y = iris
    clf = MLPClassifier(**{name: value})  # scikit-learn's rule: __init__ only stores them
    with pytest.raises(error, match=f"^MLPClassifier: {message}"):
        clf.fit(X, y)
