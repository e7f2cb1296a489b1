"""Every algorithm gymforge ships, by name: the application layer is the one place that knows them all.

Entries are import paths, so `import gymforge` imports no algorithm; `gymforge/__init__.py` registers them.
"""

from gymforge.engine.registry import Algorithm, register

ALGORITHMS = [
    Algorithm("qlearning", "gymforge.agents.qlearning", "QLearning", "QLearningConfig",
              "tabular Q-learning, Double Q, SARSA, Expected SARSA (discrete or discretized observations)"),
    Algorithm("dqn", "gymforge.agents.dqn", "DQN", "DQNConfig",
              "deep Q-networks with Double DQN, dueling heads, n-step returns, prioritized replay"),
    Algorithm("ppo", "gymforge.agents.ppo", "PPO", "PPOConfig",
              "proximal policy optimization: discrete/continuous actions, CNN, LSTM/GRU or transformer memory"),
    Algorithm("worldmodel", "gymforge.agents.worldmodel", "WorldModel", "WorldModelConfig",
              "world model: VAE on frames, MDN-RNN dynamics, PPO controller trained in the dream"),
    Algorithm("ae", "gymforge.generative.autoencoder", "Autoencoder", "AEConfig",
              "autoencoder, dense or convolutional, optionally denoising", "generative"),
    Algorithm("vae", "gymforge.generative.vae", "VAE", "VAEConfig",
              "variational autoencoder: convolutional, beta weight, conditional on labels", "generative"),
    Algorithm("gan", "gymforge.generative.gan", "GAN", "MLPGANConfig", "GAN with MLP generator and discriminator",
              "generative"),
    Algorithm("dcgan", "gymforge.generative.gan", "DCGAN", "GANConfig", "deep convolutional GAN", "generative"),
    Algorithm("cgan", "gymforge.generative.gan", "ConditionalGAN", "ConditionalGANConfig",
              "conditional GAN (DCGAN networks that see the class label)", "generative"),
    Algorithm("wgan-gp", "gymforge.generative.wgan_gp", "WGANGP", "WGANGPConfig",
              "Wasserstein GAN with gradient penalty", "generative"),
    Algorithm("cyclegan", "gymforge.generative.cyclegan", "CycleGAN", "CycleGANConfig",
              "unpaired image-to-image translation between two image sets", "generative"),
]

for algorithm in ALGORITHMS:
    register(algorithm)
