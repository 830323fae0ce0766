"""The words on the page: what each plot means and how to read its movement (after the seed tutorials)."""

INTRO = """
# GAN Playground
Watch a **Generative Adversarial Network** learn, live, and play with what it learned. Two networks compete:
the **generator G** turns random noise *z* into samples, the **discriminator D** says how likely a sample is real.
D is trained to tell real from fake, G to fool D (Goodfellow et al. 2014). Pick a preset, press **▶ Start**,
and change the knobs while it runs.
"""

HOW_TO_READ = """
### How to read this
**D(x)** is D's average verdict on a batch of *real* samples, **D(G(z))** on a batch of *fakes*
(1 = "surely real", 0 = "surely fake"). Early on D wins easily: D(x) near 1, D(G(z)) near 0. As G improves,
D can no longer tell them apart and **both drift toward 0.5**: the equilibrium of the minimax game, where
G's distribution matches the data (the Jensen-Shannon divergence between them is then 0).
D(G(z)) is shown *before* and *after* D's update, as the PyTorch DCGAN example prints it: the gap is how much one
D step moved the verdict.

{losses}

**Gradient norms** say how hard each player is pushed. If |grad G| collapses while D(G(z)) ≈ 0, G has stopped
learning: the *vanishing gradient* of the minimax loss (try the "D wins" preset, then switch the loss to *ns*).

**D's verdicts**: histograms of D's verdict on the latest real (green) and fake (purple) batches. Apart
at first, they slide together onto 0.5 as G gets better: for images, the version of GAN Lab's greying heatmap.

{data_space}**Dotted lines** on the curves mark every setting you changed, so you can see what it did.
"""

# What the loss curves sit at when D can no longer tell real from fake (D's logit 0, D(.) = 0.5), per loss knob
# (ganengine/losses.py has the formulas).
LOSS_EQUILIBRIUM = {
    "ns": "Loss D is D's binary cross-entropy, (BCE on real + BCE on fake) / 2: at equilibrium it sits near "
          "log 2 ≈ 0.69. Loss G is the non-saturating −log D(G(z)), again ≈ 0.69 at equilibrium.",
    "minimax": "Loss D is D's binary cross-entropy, (BCE on real + BCE on fake) / 2: at equilibrium it sits near "
               "log 2 ≈ 0.69. Loss G is the minimax log(1 − D(G(z))): ≈ −0.69 at equilibrium, near 0 while D "
               "wins (its gradient vanishes there).",
    "lsgan": "Least squares (Mao et al. 2017): Loss D = ((D(x) − 1)² + D(G(z))²) / 2 on D's raw output, Loss G = "
             "(D(G(z)) − 1)² / 2. At equilibrium the raw output is 0.5 everywhere: Loss D ≈ 0.25, Loss G ≈ 0.125.",
    "hinge": "Hinge (Lim & Ye 2017, SNGAN): Loss D = mean relu(1 − score on reals) + mean relu(1 + score on fakes), "
             "Loss G = −mean score on fakes. The score is not a probability: with both scores near 0 Loss D is "
             "about 2, and it usually hovers around 1 to 2 while the game is balanced; Loss G wanders around 0 "
             "(its level means little, its swings do).",
    "wgan-gp": "Wasserstein with a gradient penalty (Gulrajani et al. 2017): Loss D = mean score on fakes − mean "
               "score on reals (+ the penalty), minus D's estimate of the distance between the two distributions: "
               "it rises toward 0 as G closes the gap. Loss G = −mean score on fakes; its level means little.",
}
FAMILY_LOSS_NOTE = {
    "pix2pix": " Loss G here also holds λ·L1 to the true output (the dashed curve): it falls steadily.",
    "cyclegan": " Loss G here also holds the cycle and identity terms (dashed curves): they fall steadily.",
    "styles": " Loss G here also holds the style, reconstruction and identity terms (dashed curves).",
    "srgan": " Here Loss G is the pixel MSE plus only 1e-3 × the adversarial term (0 during the MSE warm-up): it "
             "falls like a regression loss, and the adversarial curve (dashed) is the game.",
    "vid2vid": " Loss G here also holds 100 × L1 to the real frames and the temporal D's term (dashed curves).",
    "cogan": " Loss D and Loss G here are the sums over the two coupled GANs (one per domain).",
}


DATA_SPACE = """**Data space**: the background is D's verdict everywhere (green = "real", purple = "fake", grey = "can't
tell"), green dots are real samples, purple dots G's samples from the same fixed noise, and magenta strokes show
where G's loss pushes each fake next. At equilibrium the map turns grey and the purple covers the green.

"""


def how_to_read(loss: str = "ns", family: str = "gan", points: bool = False) -> str:
    """The "How to read this" text: its losses paragraph for the loss and family in use, the data-space paragraph
    only for 2-D data (where that view is drawn)."""
    losses = (f"**Losses.** {LOSS_EQUILIBRIUM.get(loss, LOSS_EQUILIBRIUM['ns'])}{FAMILY_LOSS_NOTE.get(family, '')} "
              f"GAN losses do not fall steadily like a classifier's: they see-saw as each player answers the other. "
              f"A Loss D that drops toward its floor while Loss G climbs means D is winning.")
    return HOW_TO_READ.replace("{losses}", losses).replace("{data_space}", DATA_SPACE if points else "")


QUALITY_INTRO = "**Quality** is measured every few seconds on a frozen copy of G, off the training thread. "
# What the quality plot measures, per kind of run (the family, or 2-D data for the gan family).
QUALITY_BY_FAMILY = {
    "points": "2-D mixtures: *modes captured* and *% high quality* (a sample within 3σ of a centre; 98.9% is the "
              "ceiling for a perfect generator) as in the PacGAN/VEEGAN papers, whose numbers are drawn as reference "
              "lines. Other 2-D data (spiral, moons, drawn points): a distance between real and fake samples.",
    "gan": "Digits (2,500 samples): a small classifier shipped with the app sorts the samples into classes (the "
           "mode-collapse meter; an \"unrecognisable\" bucket for what it cannot read) and gives **FD (classifier "
           "features)**, a Fréchet distance like FID but in that classifier's features: compare it with its "
           "*real-vs-real floor*, not with published FIDs.",
    "pix2pix": "Translation (pix2pix): G's outputs for the 500 held-out pairs, never trained on: the share the "
               "classifier reads as the source digit (the digit analogue of the paper's FCN-score), per class beside "
               "it, and PSNR and SSIM against the real digit (higher is closer).",
    "cyclegan": "CycleGAN: the share of held-out digits that keep their class through G_AB and G_BA, the cycle L1 "
                "(how well A → B → A comes back) and the L1 to the known true target.",
    "styles": "Style transfer: content kept (held-out digits re-rendered in each style and still read as their "
              "digit), style match (a texture-statistics classifier names the style asked for) and change against "
              "the true rendering, overall and per style.",
    "srgan": "SRGAN: the 500 held-out digits upscaled from their low-res versions, against bicubic upscaling of the "
             "same inputs: the share the classifier reads as the right digit, PSNR, SSIM and edge strength (the "
             "Sobel gradient of the outputs as a % of the real digits': a sharpness meter). The "
             "**perception-distortion trade-off** (Blau & Michaeli 2018): the MSE warm-up (SRResNet) gives the "
             "highest PSNR, because the mean of all the sharp digits a blurry input could be is the answer with the "
             "least squared error, and that mean is blurry. D punishes blur, so raising the adversarial weight makes "
             "strokes crisper and edge strength higher while PSNR falls: a sharp stroke a pixel off costs more "
             "squared error than a blur (Ledig et al. 2017 report the same: SRGAN's PSNR below SRResNet's, its "
             "opinion score far above).",
    "progan": "Progressive GAN: FD (digits) and the **sliced Wasserstein distance** (SWD, the ProGAN paper's "
              "measure: random 7×7 patches of each Laplacian-pyramid level, projected on random directions and "
              "compared; needs no pretrained network) on G's samples at 32 px, whatever level it has grown to; the "
              "32 px band measures fine detail, the 16 px low-pass the coarse shapes.",
    "cogan": "CoGAN: on 500 fixed z, the share of pairs G1(z), G2(z) read as the same digit (the negative turned "
             "back, edges read by a small CNN trained on real digits' edges), the same with partners shuffled (what "
             "chance gives), the pixel agreement of G2(z) with the known transform of G1(z), and the digit classes "
             "present.",
    "vid2vid": "vid2vid: G's clips for held-out moving digits: the share of frames the classifier reads as the "
               "clip's digit, the share of clips whose digit keeps one class in every frame, the warp error (each "
               "frame against the previous one moved by the digit's known motion: 0 for a real clip, higher when "
               "strokes flicker) and the L1 to the real frames.",
}


def quality_help(family: str = "gan", points: bool = False) -> str:
    """What the quality plot measures for the run in use (one paragraph, not every family's)."""
    key = "points" if points else family
    return QUALITY_INTRO + QUALITY_BY_FAMILY.get(key, QUALITY_BY_FAMILY["gan"])


EXPLORE_HELP = """
### Play with a generator
A generator maps a point *z* in latent space to a sample. A **seed** names one *z*. The first four sliders move *z*
along its first four coordinates; the next four along G's **principal directions** (SeFa: the directions its first
layer responds to most strongly), in units of σ. **Interpolation** walks from seed A to seed B: *lerp* on the
straight line, *slerp* on the great circle, which keeps |z| where G was trained (the straight line's midpoint is
shorter by about √2, so lerp can fade in the middle). A video generator (vid2vid) has no *z*: pick or draw a path
for a digit in the panel that appears below, and watch it render the clip.
"""

ABOUT = """
### About
The training engine (`ganengine`) is the same one the command line uses (`python -m ganengine train ...`).
Losses: minimax and non-saturating (Goodfellow et al. 2014), least squares (Mao et al. 2017), hinge, and
Wasserstein with gradient penalty (Gulrajani et al. 2017); R1 (Mescheder et al. 2018) and one-sided label smoothing
(Salimans et al. 2016). Models: the original MLP GAN, DCGAN (Radford et al. 2015) and a conditional GAN with a
projection discriminator (Miyato & Koyama 2018). MNIST: Yann LeCun, Corinna Cortes and Christopher J. C. Burges
(CC BY-SA 3.0). Colours after GAN Lab (Kahng et al. 2018).
"""

CONTINUED = ("**Your checkpoint:** the run goes on exactly where it was saved (weights, optimisers, EMA and random "
             "state). Its curves start at the saved step: a checkpoint keeps the state, not the history.")

DRAWN = ("**Your drawing:** a small MLP GAN (the spiral preset's settings) learns the points you drew. Watch the "
         "energy distance fall toward its real-vs-real floor and coverage climb as G reaches every stroke; turn on "
         "*G's latent grid* to see how G bends its noise onto your shape.")

TRANSLATE_HELP = """
### Draw, and let your translating GAN answer
A translating GAN's generator **G** turns one kind of image into another. Draw a digit on the canvas: after each
stroke your **live** G translates it, and while your run trains the output keeps changing as G learns (the edges2cats
demo only ever ran a frozen model). *Random held-out example* shows an input G never trained on, its output and the
real answer. Train one in the Train tab, or upload a checkpoint:
- **pix2pix** (Isola et al. 2017, preset *pix2pix: edges -> digits*) learns from **pairs**: a digit's edge map (its
  outline) -> the digit. Its discriminator **D** judges (edges, image) pairs patch by patch (a PatchGAN) and an **L1**
  term (λ = 100) keeps G near the real digit. A pen stroke is an *outline* to it: draw both sides of a stroke for the
  cleanest digits; a shape you close (the triangle of a 4) comes out filled in.
- **CycleGAN** (Zhu et al. 2017, preset *CycleGAN: thin <-> thick strokes*) learns from two piles of digits with **no
  pairs**, so it learns two Gs: G_AB (thin -> thick) and G_BA (back). Pick the **direction**; the **cycle back**
  G_BA(G_AB(x)) should return your drawing: the cycle loss asks exactly that, and is what keeps the digit a digit
  when no pair says what the answer is. Your pen draws thin strokes: that is domain A.
- **Style transfer** (StarGAN, Choi et al. 2018, preset *Style transfer: one G, five digit styles*): one G takes a
  **style code** beside the image. Pick the **style**; *blend toward* mixes two codes (G's per-style normalisation is
  interpolated), and the strip shows your digit in every style. The way back to *plain* is its reconstruction.
- **SRGAN** (Ledig et al. 2017, preset *SRGAN: 7x7 -> 28x28 digits*) upscales: your drawing is shrunk to **7x7**
  pixels (its strokes widened first, so they survive) and G paints the 28x28 digit; bicubic upscaling of the same
  7x7 input is shown beside it, the baseline G must beat.
"""
